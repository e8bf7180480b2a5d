package io.dkv.server.api;

import com.google.protobuf.MessageLite;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Rejects a received message over etcd's gRPC limit (the request limit plus 512 KiB) with the status and
 * message etcd's gRPC server gives.
 */
public final class MessageSizeLimit implements ServerInterceptor {

  /** What etcd allows a gRPC message beyond --max-request-bytes. */
  public static final int GRPC_OVERHEAD_BYTES = 512 * 1024;

  private final long limit;

  public MessageSizeLimit(long maxRequestBytes) {
    this.limit = maxRequestBytes + GRPC_OVERHEAD_BYTES;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    ServerCall.Listener<Q> delegate = next.startCall(call, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private boolean closed;

      @Override
      public void onMessage(Q message) {
        if (closed) {
          return;
        }
        if (message instanceof MessageLite m && m.getSerializedSize() > limit) {
          closed = true;
          call.close(ErrorStatus.messageTooLarge(m.getSerializedSize(), limit), new Metadata());
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!closed) {
          super.onHalfClose();
        }
      }
    };
  }
}
