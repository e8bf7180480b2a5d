package io.dkv.server.metrics;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts calls and messages per gRPC method under the names etcd exports (go-grpc-prometheus):
 * {@code grpc_server_started_total}, {@code grpc_server_handled_total}, {@code grpc_server_msg_received_total}
 * and {@code grpc_server_msg_sent_total}, so one dashboard or scrape reads DKV and etcd alike.
 */
public final class GrpcMetrics implements ServerInterceptor {

  private final Map<String, MethodCounters> byMethod = new ConcurrentHashMap<>();

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    MethodCounters c = counters(call.getMethodDescriptor());
    c.started.increment();
    ServerCall<Q, A> counted = new SimpleForwardingServerCall<>(call) {
      @Override
      public void sendMessage(A message) {
        c.sent.increment();
        super.sendMessage(message);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        c.handled.incrementAndGet(status.getCode().value());
        super.close(status, trailers);
      }
    };
    return new SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
      @Override
      public void onMessage(Q message) {
        c.received.increment();
        super.onMessage(message);
      }
    };
  }

  /** Reports every method of {@code service} from the start, with zero counts, as etcd does. */
  public void register(ServerServiceDefinition service) {
    service.getMethods().forEach(m -> counters(m.getMethodDescriptor()));
  }

  private MethodCounters counters(MethodDescriptor<?, ?> method) {
    MethodCounters c = byMethod.get(method.getFullMethodName());
    return c != null ? c : byMethod.computeIfAbsent(method.getFullMethodName(), n -> new MethodCounters(method));
  }

  void write(PrometheusText out) {
    List<MethodCounters> methods = new ArrayList<>(byMethod.values());
    methods.sort(Comparator.comparing(c -> c.labels));
    out.type("grpc_server_started_total", "Total number of RPCs started on the server.", "counter");
    methods.forEach(c -> out.sample("grpc_server_started_total", c.labels, c.started.sum()));
    out.type("grpc_server_handled_total",
        "Total number of RPCs completed on the server, regardless of success or failure.", "counter");
    for (MethodCounters c : methods) {
      for (Status.Code code : Status.Code.values()) {
        out.sample("grpc_server_handled_total", "grpc_code=\"" + codeName(code) + "\"," + c.labels,
            c.handled.get(code.value()));
      }
    }
    out.type("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.",
        "counter");
    methods.forEach(c -> out.sample("grpc_server_msg_received_total", c.labels, c.received.sum()));
    out.type("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", "counter");
    methods.forEach(c -> out.sample("grpc_server_msg_sent_total", c.labels, c.sent.sum()));
  }

  /** grpc-go's code names, as etcd reports them: OK, Canceled, NotFound, InvalidArgument, ... */
  private static String codeName(Status.Code code) {
    if (code == Status.Code.CANCELLED) {
      return "Canceled";
    }
    StringBuilder b = new StringBuilder();
    for (String part : code.name().split("_")) {
      b.append(part.charAt(0)).append(part.substring(1).toLowerCase());
    }
    return code == Status.Code.OK ? "OK" : b.toString();
  }

  private static final class MethodCounters {
    final String labels;
    final LongAdder started = new LongAdder();
    final LongAdder received = new LongAdder();
    final LongAdder sent = new LongAdder();
    final AtomicLongArray handled = new AtomicLongArray(Status.Code.values().length);

    MethodCounters(MethodDescriptor<?, ?> method) {
      String type = switch (method.getType()) {
        case UNARY -> "unary";
        case CLIENT_STREAMING -> "client_stream";
        case SERVER_STREAMING -> "server_stream";
        case BIDI_STREAMING -> "bidi_stream";
        case UNKNOWN -> "unknown";
      };
      labels = "grpc_method=\"" + method.getBareMethodName() + "\",grpc_service=\"" + method.getServiceName()
          + "\",grpc_type=\"" + type + "\"";
    }
  }
}
