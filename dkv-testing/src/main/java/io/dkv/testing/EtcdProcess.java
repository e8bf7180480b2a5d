package io.dkv.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assumptions;

/**
 * A real etcd, started from the {@code etcd} binary on free loopback ports with a temporary data directory,
 * and removed again on {@link #close()} (or on a data directory of the caller's, which stays). Without the
 * binary, {@link #start} skips the calling test with a
 * visible reason, or fails it when the system property {@code etcd.required} is true (as in CI).
 */
public final class EtcdProcess implements AutoCloseable {

  private final Process process;
  private final Path dataDir;
  private final int clientPort;
  private final Path log;
  private final boolean ownsDir;

  private EtcdProcess(Process process, Path dataDir, int clientPort, Path log, boolean ownsDir) {
    this.process = process;
    this.dataDir = dataDir;
    this.clientPort = clientPort;
    this.log = log;
    this.ownsDir = ownsDir;
  }

  /** The etcd binary, or null if none is installed. */
  public static Path binary() {
    String explicit = System.getenv("ETCD_BIN");
    if (explicit != null && Files.isExecutable(Path.of(explicit))) {
      return Path.of(explicit);
    }
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, "etcd");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    Path debian = Path.of("/usr/bin/etcd");
    return Files.isExecutable(debian) ? debian : null;
  }

  /** The etcdctl binary next to etcd, or null. */
  public static Path etcdctl() {
    Path etcd = binary();
    Path ctl = etcd == null ? Path.of("/usr/bin/etcdctl") : etcd.resolveSibling("etcdctl");
    return Files.isExecutable(ctl) ? ctl : null;
  }

  /** An etcdctl (API v3) command against the server on {@code port}, with a 10 s command timeout. */
  public static ProcessBuilder etcdctl(int port, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of(etcdctl().toString(), "--endpoints=127.0.0.1:" + port,
        "--command-timeout=10s"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("ETCDCTL_API", "3");
    return pb;
  }

  /** Skips the test (or fails it under -Detcd.required=true) when etcd is not installed. */
  public static void assumeInstalled() {
    if (binary() != null) {
      return;
    }
    String reason = "etcd binary not found on PATH (install Debian's etcd-server, or set ETCD_BIN)";
    if (Boolean.getBoolean("etcd.required")) {
      throw new AssertionError(reason + ", and -Detcd.required=true");
    }
    Assumptions.abort(reason + "; skipping the comparison with a real etcd");
  }

  public static EtcdProcess start(String... extraFlags) throws IOException {
    assumeInstalled();
    Path dir = Files.createTempDirectory("etcd-test");
    return start(dir, dir.resolve("data"), dir.resolve("etcd.log"), true, extraFlags);
  }

  /**
   * Starts etcd on {@code dataDir} (kept on {@link #close()}; a second start on it is a restart), its log next to
   * it in {@code <dataDir>.etcd.log}.
   */
  public static EtcdProcess start(Path dataDir, String... extraFlags) throws IOException {
    assumeInstalled();
    return start(dataDir, dataDir, dataDir.resolveSibling(dataDir.getFileName() + ".etcd.log"), false, extraFlags);
  }

  private static EtcdProcess start(Path dir, Path dataDir, Path log, boolean ownsDir, String... extraFlags)
      throws IOException {
    for (int attempt = 0; ; attempt++) {
      int client = Ports.freePort();
      int peer = Ports.freePort();
      List<String> cmd = new ArrayList<>(List.of(binary().toString(),
          "--name", "test",
          "--data-dir", dataDir.toString(),
          "--listen-client-urls", "http://127.0.0.1:" + client,
          "--advertise-client-urls", "http://127.0.0.1:" + client,
          "--listen-peer-urls", "http://127.0.0.1:" + peer,
          "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
          "--initial-cluster", "test=http://127.0.0.1:" + peer,
          "--log-level", "error"));
      cmd.addAll(List.of(extraFlags));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      EtcdProcess etcd = new EtcdProcess(p, dir, client, log, ownsDir);
      if (etcd.awaitReady(Duration.ofSeconds(30))) {
        return etcd;
      }
      String out = Files.readString(log);
      etcd.close();
      if (attempt >= 2) {
        throw new IOException("etcd did not start:\n" + out);
      }
    }
  }

  private boolean awaitReady(Duration timeout) {
    try {
      Awaitility.await().atMost(timeout).pollInterval(Duration.ofMillis(50))
          .until(() -> !process.isAlive() || health());
    } catch (ConditionTimeoutException e) {
      return false;
    }
    return process.isAlive();
  }

  private boolean health() {
    return health(endpoint());
  }

  /** Whether the etcd at {@code endpoint} answers 200 on /health (it has a leader). */
  static boolean health(String endpoint) {
    try {
      var conn = (java.net.HttpURLConnection) java.net.URI.create(endpoint + "/health").toURL().openConnection();
      conn.setConnectTimeout(1000);
      conn.setReadTimeout(1000);
      return conn.getResponseCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  public String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  public int port() {
    return clientPort;
  }

  /** SIGKILL, and waits for the process to end. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    if (ownsDir) {
      deleteTree(dataDir);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temp dir
    }
  }
}
