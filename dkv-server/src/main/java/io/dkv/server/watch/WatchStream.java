package io.dkv.server.watch;

import io.etcd.jetcd.api.WatchResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.HashMap;
import java.util.Map;

/** One client's Watch stream: its watchers by id and its outbound side. Owned by the hub thread. */
final class WatchStream {

  final ServerCallStreamObserver<WatchResponse> out;
  final Map<Long, Watcher> watchers = new HashMap<>();
  long nextId;
  boolean progressRequested;
  boolean closed;

  WatchStream(ServerCallStreamObserver<WatchResponse> out) {
    this.out = out;
  }

  /** True if the client is taking what we send (gRPC flow control has room). */
  boolean ready() {
    return !closed && out.isReady();
  }

  void send(WatchResponse r) {
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
