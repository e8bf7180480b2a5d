/**
 * Etcd's {@code --listen-metrics-urls}: an HTTP listener serving {@code /metrics} (Prometheus text, etcd's
 * metric names) and {@code /health}, and the per-method gRPC counters behind them.
 *
 * <p>Owns what is measured and its text format, nothing the server's behaviour depends on. Depends on no other
 * package of dkv-server (gauges are given as suppliers).
 *
 * <p>Thread-safety: counters are updated from any thread; scrapes run on the listener's own thread.
 */
package io.dkv.server.metrics;
