package io.dkv.client;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * How the client's calls behave while a server cannot be reached, applied to every call jetcd makes:
 *
 * <ul>
 *   <li>A unary call (a read, a write, a lease grant) does not wait for a connection: it fails as soon as the
 *       connection attempt under way fails (within the connect timeout), instead of waiting until the request
 *       timeout. A stream (a watch, lease keep-alives) waits for the connection, so it opens the moment a server
 *       is back.
 *   <li>A read ({@code Range}) that gets no answer within {@link #READ_ATTEMPT} fails as {@code UNAVAILABLE}, which
 *       jetcd retries (twice) on the next member: a member that stops answering with its connection open (a paused
 *       process, a cut that drops packets) would otherwise hold the read until gRPC's keep-alive gives up on the
 *       connection ({@link #KEEPALIVE_TIME} + {@link #KEEPALIVE_TIMEOUT}). Writes are not cut short: one that got no
 *       answer may have been applied, so it is not retried, and fails once the keep-alive gives up (or the request
 *       timeout passes, if shorter).
 *   <li>A call that failed for want of a connection says so: its status description (which jetcd turns into its
 *       exception's message) names the member and the endpoints and the cause, like
 *       {@code cannot reach 127.0.0.1:2379: connection refused}, or
 *       {@code connection to 127.0.0.1:2379 (one of ...) failed: ...} for a connection lost during the call.
 *       Statuses sent by a server ({@code etcdserver: ...}) are left as they are (jetcd and the primitives match
 *       some of them by their exact text).
 * </ul>
 */
final class CallPolicy implements ClientInterceptor {

  /** How long one attempt of a read waits for its answer before it is sent to another member. */
  static final Duration READ_ATTEMPT = Duration.ofSeconds(3);
  /** gRPC's keep-alive: a ping after this long without a word from the server (10 s is gRPC's minimum). */
  static final Duration KEEPALIVE_TIME = Duration.ofSeconds(10);
  /** ... and the connection is given up if the ping is not answered within this. */
  static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(2);

  private static final String RANGE = "etcdserverpb.KV/Range";

  private final Endpoints endpoints;

  CallPolicy(Endpoints endpoints) {
    this.endpoints = endpoints;
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    CallOptions o = method.getType() == MethodDescriptor.MethodType.UNARY ? options.withoutWaitForReady() : options;
    boolean attemptDeadline = RANGE.equals(method.getFullMethodName()) && (o.getDeadline() == null
        || o.getDeadline().timeRemaining(TimeUnit.NANOSECONDS) > READ_ATTEMPT.toNanos());
    if (attemptDeadline) {
      o = o.withDeadlineAfter(READ_ATTEMPT.toNanos(), TimeUnit.NANOSECONDS);
    }
    ClientCall<Q, R> call = next.newCall(method, o);
    return new SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        super.start(new SimpleForwardingClientCallListener<>(listener) {
          @Override
          public void onClose(Status status, Metadata trailers) {
            String member = member(call);
            if (attemptDeadline && status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
              status = Status.UNAVAILABLE.withDescription("no answer from " + (member == null ? "a member"
                  : member) + " (one of " + endpoints.addresses() + ") to a read within " + READ_ATTEMPT.toSeconds()
                  + " s (stopped or cut off?)").withCause(status.getCause());
            } else {
              status = explain(status, member);
            }
            super.onClose(status, trailers);
          }
        }, headers);
      }
    };
  }

  /** The address of the member the call went to, if known. */
  private static String member(ClientCall<?, ?> call) {
    try {
      SocketAddress a = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      if (a instanceof InetSocketAddress i) {
        String host = i.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + i.getPort();
      }
      return a == null ? null : a.toString();
    } catch (RuntimeException notKnown) {
      return null;
    }
  }

  /**
   * The status with a description naming the member (if known), the endpoints and the cause, when the failure is
   * a connection's.
   */
  private Status explain(Status status, String member) {
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
      String to = member == null || endpoints.all().size() == 1 ? endpoints.toString()
          : member + " (one of " + endpoints.addresses() + ")";
      return status.withDescription("connection to " + to + " failed: " + description
          + (status.getCause() == null ? "" : " (" + status.getCause() + ")"));
    }
    return status;
  }
}
