package io.dkv.server.metrics;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The HTTP listener of etcd's {@code --listen-metrics-urls}: {@code GET /metrics} in Prometheus' text format and
 * {@code GET /health} answering {@code {"health":"true"}} (503 with {@code "false"} when unhealthy), as etcd does.
 */
public final class MetricsEndpoint implements AutoCloseable {

  private record Gauge(String name, String help, LongSupplier value, String type) {}

  private final HttpServer http;
  private final ExecutorService executor;
  private final GrpcMetrics grpc;
  private final List<Gauge> gauges = new ArrayList<>();
  private final BooleanSupplier healthy;

  private MetricsEndpoint(HttpServer http, GrpcMetrics grpc, BooleanSupplier healthy) {
    this.http = http;
    this.grpc = grpc;
    this.healthy = healthy;
    this.executor = Executors.newSingleThreadExecutor(
        new ThreadFactoryBuilder().setNameFormat("dkv-metrics").setDaemon(true).build());
    http.setExecutor(executor);
    http.createContext("/metrics", this::metrics);
    http.createContext("/health", this::health);
  }

  /** Binds {@code host:port} (0 for a free port); serve with {@link #start()} once the gauges are added. */
  public static MetricsEndpoint bind(String host, int port, GrpcMetrics grpc, BooleanSupplier healthy)
      throws IOException {
    return new MetricsEndpoint(HttpServer.create(new InetSocketAddress(host, port), 16), grpc, healthy);
  }

  /** Adds a gauge read at every scrape. */
  public MetricsEndpoint gauge(String name, String help, LongSupplier value) {
    gauges.add(new Gauge(name, help, value, "gauge"));
    return this;
  }

  /** Adds a counter (a value that only grows) read at every scrape. */
  public MetricsEndpoint counter(String name, String help, LongSupplier value) {
    gauges.add(new Gauge(name, help, value, "counter"));
    return this;
  }

  /** Starts answering. */
  public void start() {
    http.start();
  }

  /** The bound port. */
  public int port() {
    return http.getAddress().getPort();
  }

  private void metrics(HttpExchange exchange) throws IOException {
    if (!"GET".equals(exchange.getRequestMethod())) {
      reply(exchange, 405, "text/plain", "method not allowed\n");
      return;
    }
    PrometheusText text = new PrometheusText();
    for (Gauge g : gauges) {
      text.type(g.name(), g.help(), g.type());
      text.sample(g.name(), "", g.value().getAsLong());
    }
    grpc.write(text);
    reply(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", text.toString());
  }

  private void health(HttpExchange exchange) throws IOException {
    boolean ok = healthy.getAsBoolean();
    reply(exchange, ok ? 200 : 503, "application/json", "{\"health\":\"" + ok + "\"}");
  }

  private static void reply(HttpExchange exchange, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
  }
}
