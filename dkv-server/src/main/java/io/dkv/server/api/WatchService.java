package io.dkv.server.api;

import io.dkv.server.watch.WatchHub;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.stub.StreamObserver;

/** Etcd's Watch service: each bidirectional stream is served by the {@link WatchHub}. */
public final class WatchService extends WatchGrpc.WatchImplBase {

  private final WatchHub hub;

  public WatchService(WatchHub hub) {
    this.hub = hub;
  }

  @Override
  public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> responses) {
    return hub.open(responses);
  }
}
