package io.dkv.server.testing;

import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A raw etcd Watch stream for tests: sends requests, keeps every response and the error, if any. */
public final class WatchSession implements AutoCloseable {

  private final ManagedChannel channel;
  private final StreamObserver<WatchRequest> requests;
  public final List<WatchResponse> responses = new CopyOnWriteArrayList<>();
  public volatile Throwable error;

  public WatchSession(int port) {
    channel = Channels.open(port);
    requests = WatchGrpc.newStub(channel).watch(new StreamObserver<>() {
      @Override
      public void onNext(WatchResponse r) {
        responses.add(r);
      }

      @Override
      public void onError(Throwable t) {
        error = t;
      }

      @Override
      public void onCompleted() {
      }
    });
  }

  public void send(WatchRequest r) {
    synchronized (requests) {
      requests.onNext(r);
    }
  }

  public void create(WatchCreateRequest.Builder c) {
    send(WatchRequest.newBuilder().setCreateRequest(c).build());
  }

  @Override
  public void close() {
    Channels.close(channel);
  }
}
