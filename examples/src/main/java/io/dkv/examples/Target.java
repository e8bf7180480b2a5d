package io.dkv.examples;

import io.dkv.client.DkvClient;
import io.dkv.server.DkvServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where an example runs: the etcd-v3 endpoint it was given (dkv-server or etcd), or, by default, a dkv-server
 * embedded in the example's JVM with its data in a temporary directory that is deleted on {@link #close()}.
 *
 * <pre>{@code
 * try (Target target = Target.open(endpointOrNull); DkvClient client = target.connect()) {
 *   out.println("running against " + target);
 * }
 * }</pre>
 */
public final class Target implements AutoCloseable {

  private final String endpoint;
  private final String metricsUrl;
  private DkvServer server;
  private final Path dataDir;

  private Target(String endpoint, String metricsUrl, DkvServer server, Path dataDir) {
    this.endpoint = endpoint;
    this.metricsUrl = metricsUrl;
    this.server = server;
    this.dataDir = dataDir;
  }

  /** The given endpoint ({@code http://host:port}), or an embedded server if it is null or blank. */
  public static Target open(String endpoint) {
    return open(endpoint, null);
  }

  /**
   * Like {@link #open(String)}; {@code metricsUrl} is the server's Prometheus endpoint (etcd serves
   * {@code /metrics} on its client URL, dkv-server on {@code --listen-metrics-urls}), null if unknown. The
   * embedded server always serves its metrics, on a free port.
   */
  public static Target open(String endpoint, String metricsUrl) {
    if (endpoint != null && !endpoint.isBlank()) {
      if (!endpoint.startsWith("http://") && !endpoint.startsWith("https://")) {
        throw new IllegalArgumentException("an endpoint is http://host:port, not: " + endpoint);
      }
      return new Target(endpoint, metricsUrl, null, null);
    }
    Path dir = null;
    try {
      dir = Files.createTempDirectory("dkv-example-");
      DkvServer server = DkvServer.builder().dataDir(dir).port(0).metrics("127.0.0.1", 0).start();
      return new Target(server.endpoint(), "http://127.0.0.1:" + server.metricsPort() + "/metrics", server, dir);
    } catch (IOException e) {
      delete(dir);
      throw new UncheckedIOException("cannot start the embedded dkv-server", e);
    }
  }

  /** The endpoint clients connect to. */
  public String endpoint() {
    return endpoint;
  }

  /** The server's Prometheus metrics URL, if known (for the embedded server: as it was started first). */
  public java.util.Optional<String> metricsUrl() {
    return java.util.Optional.ofNullable(metricsUrl);
  }

  /** Whether this target is a server embedded in this JVM. */
  public boolean embedded() {
    return server != null;
  }

  /** A new client of this target; the caller closes it. */
  public DkvClient connect() {
    return DkvClient.connect(endpoint);
  }

  /**
   * Stops the embedded server and starts it again on the same data directory and port, as an operator's restart
   * would; clients reconnect by themselves. Only for the embedded server.
   */
  public void restart() {
    if (server == null) {
      throw new IllegalStateException("only an embedded server can be restarted by the example: " + endpoint);
    }
    int port = server.port();
    server.close();
    try {
      server = DkvServer.builder().dataDir(dataDir).port(port).metrics("127.0.0.1", 0).start();
    } catch (IOException e) {
      server = null;
      throw new UncheckedIOException("cannot restart the embedded dkv-server on port " + port, e);
    }
  }

  /** Stops the embedded server and deletes its data; does nothing for an external endpoint. */
  @Override
  public void close() {
    if (server != null) {
      server.close();
      delete(dataDir);
    }
  }

  @Override
  public String toString() {
    return server != null ? "an embedded dkv-server at " + endpoint + " (data in " + dataDir + ")" : endpoint;
  }

  private static void delete(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }
}
