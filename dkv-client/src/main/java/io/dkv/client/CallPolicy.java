package io.dkv.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * How the client's calls behave while no server can be reached, applied to every call jetcd makes:
 *
 * <ul>
 *   <li>A unary call (a read, a write, a lease grant) does not wait for a connection: it fails as soon as the
 *       connection attempt under way fails (within the connect timeout), instead of waiting until the request
 *       timeout. A stream (a watch, lease keep-alives) waits for the connection, so it opens the moment a server
 *       is back.
 *   <li>A call that failed for want of a connection says so: its status description (which jetcd turns into its
 *       exception's message) names the endpoints and the cause, like
 *       {@code cannot reach 127.0.0.1:2379: connection refused}, or {@code connection to 127.0.0.1:2379 failed: ...}
 *       for a connection lost during the call. Statuses sent by a server ({@code etcdserver: ...}) are left as
 *       they are (jetcd and the primitives match some of them by their exact text).
 * </ul>
 */
final class CallPolicy implements ClientInterceptor {

  private final Endpoints endpoints;

  CallPolicy(Endpoints endpoints) {
    this.endpoints = endpoints;
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    CallOptions o = method.getType() == MethodDescriptor.MethodType.UNARY ? options.withoutWaitForReady() : options;
    return new SimpleForwardingClientCall<>(next.newCall(method, o)) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        super.start(new SimpleForwardingClientCallListener<>(listener) {
          @Override
          public void onClose(Status status, Metadata trailers) {
            super.onClose(explain(status), trailers);
          }
        }, headers);
      }
    };
  }

  /** The status with a description naming the endpoints and the cause, when the failure is a connection's. */
  Status explain(Status status) {
    if (status.isOk()) {
      return status;
    }
    if (status.getCause() != null) {
      String why = Failures.connectionFailure(status.getCause(), endpoints.tls());
      if (why != null) {
        return status.withDescription("cannot reach " + endpoints + ": " + why);
      }
    }
    String description = status.getDescription();
    // a server's own UNAVAILABLE ("etcdserver: no leader", ...) keeps its exact text: jetcd matches it
    if (status.getCode() == Status.Code.UNAVAILABLE && (description == null || !description.startsWith("etcdserver:"))) {
      return status.withDescription("connection to " + endpoints + " failed: " + description
          + (status.getCause() == null ? "" : " (" + status.getCause() + ")"));
    }
    return status;
  }
}
