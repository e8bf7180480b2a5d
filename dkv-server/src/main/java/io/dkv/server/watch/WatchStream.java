package io.dkv.server.watch;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.HashMap;
import java.util.Map;

/** One client's Watch stream: its watchers by id and its outbound side. Owned by the hub thread. */
final class WatchStream {

  /** Takes {@link io.etcd.jetcd.api.WatchResponse}s and {@link EncodedResponses.Encoded} ones. */
  final ServerCallStreamObserver<Object> out;
  final Map<Long, Watcher> watchers = new HashMap<>();
  long nextId;
  boolean progressRequested;
  boolean closed;

  WatchStream(ServerCallStreamObserver<Object> out) {
    this.out = out;
  }

  /** True if the client is taking what we send (gRPC flow control has room). */
  boolean ready() {
    return !closed && out.isReady();
  }

  void send(Object r) {
    if (!closed) {
      out.onNext(r);
    }
  }

  boolean allSynced() {
    for (Watcher w : watchers.values()) {
      if (!w.synced) {
        return false;
      }
    }
    return true;
  }
}
