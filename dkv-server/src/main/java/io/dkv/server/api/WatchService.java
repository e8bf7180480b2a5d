package io.dkv.server.api;

import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.watch.WatchHub;
import io.dkv.server.watch.WatchOutput;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * Etcd's Watch service: each gRPC stream is a {@link WatchHub.Session}; requests are handed to the hub on the
 * thread that received them (so a watch's start revision is the one committed when it arrived), responses
 * come from the hub thread, written with {@link WatchHub#RESPONSE_MARSHALLER}.
 */
final class WatchService {

  /**
   * How much a stream may have queued before it counts as not ready (gRPC's default is 32 KiB): enough to
   * keep a fast client's connection busy, and the most the server buffers for a client that stopped reading.
   */
  static final int STREAM_BUFFER_BYTES = 1024 * 1024;

  private final WatchHub hub;

  WatchService(WatchHub hub) {
    this.hub = hub;
  }

  /** The service definition to add to a gRPC server. */
  public ServerServiceDefinition bindService() {
    MethodDescriptor<WatchRequest, Object> method = WatchGrpc.getWatchMethod().toBuilder(
        ProtoUtils.marshaller(WatchRequest.getDefaultInstance()), WatchHub.RESPONSE_MARSHALLER).build();
    return ServerServiceDefinition.builder(WatchGrpc.SERVICE_NAME)
        .addMethod(method, ServerCalls.asyncBidiStreamingCall(this::open))
        .build();
  }

  private StreamObserver<WatchRequest> open(StreamObserver<Object> responses) {
    ServerCallStreamObserver<Object> out = (ServerCallStreamObserver<Object>) responses;
    out.setOnReadyThreshold(STREAM_BUFFER_BYTES);
    Output output = new Output(out);
    WatchHub.Session session = hub.open(output);
    RequireLeader requireLeader = RequireLeader.STREAM.get();
    Runnable forget = requireLeader == null ? () -> { } : requireLeader.onLeaderLost(() -> {
      output.fail(ErrorStatus.of(EtcdError.NO_LEADER));
      session.close();
    });
    out.setOnCancelHandler(() -> {
      forget.run();
      session.close();
    });
    out.setOnReadyHandler(session::drained);
    return new StreamObserver<>() {
      @Override
      public void onNext(WatchRequest r) {
        switch (r.getRequestUnionCase()) {
          case CREATE_REQUEST -> session.create(r.getCreateRequest());
          case CANCEL_REQUEST -> session.cancel(r.getCancelRequest().getWatchId());
          case PROGRESS_REQUEST -> session.requestProgress();
          default -> { } // as etcd: a request of no known kind is ignored
        }
      }

      @Override
      public void onError(Throwable t) {
        forget.run();
        session.close();
      }

      @Override
      public void onCompleted() {
        // as etcd: a client that stops sending keeps receiving until it cancels the call
      }
    };
  }

  /**
   * A gRPC stream's outbound side as the hub's output. The hub sends from its thread; a require-leader stream
   * may also be failed from the leader monitor's, hence the lock: nothing is sent after the stream ended.
   */
  private static final class Output implements WatchOutput {
    private final ServerCallStreamObserver<Object> out;
    private boolean ended;

    Output(ServerCallStreamObserver<Object> out) {
      this.out = out;
    }

    @Override
    public boolean isReady() {
      return out.isReady();
    }

    @Override
    public synchronized void send(Object response) {
      if (!ended) {
        out.onNext(response);
      }
    }

    @Override
    public void stop() {
      fail(ErrorStatus.of(EtcdError.STOPPED));
    }

    /** Ends the stream with {@code status}, unless it ended already. */
    synchronized void fail(io.grpc.Status status) {
      if (ended) {
        return;
      }
      ended = true;
      try {
        out.onError(status.asRuntimeException());
      } catch (RuntimeException alreadyClosed) {
        // the call ended meanwhile
      }
    }
  }
}
