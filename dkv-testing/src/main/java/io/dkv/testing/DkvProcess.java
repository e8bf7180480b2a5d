package io.dkv.testing;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A dkv-server in a JVM of its own ({@code io.dkv.server.Main} on this JVM's class path), for tests that
 * kill it ({@link #kill()} sends SIGKILL) and for benchmarks that compare it with etcd process to process.
 */
public final class DkvProcess implements AutoCloseable {

  private final Process process;
  private final int port;

  private DkvProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts a server on {@code dataDir} at {@code port} (0: a free one) and waits until it accepts calls. */
  public static DkvProcess start(Path dataDir, int port, List<String> jvmFlags, String... serverFlags)
      throws IOException {
    int p = port == 0 ? Ports.freePort() : port;
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.dkv.server.Main",
        "--data-dir", dataDir.toString(), "--listen-client-urls", "http://127.0.0.1:" + p));
    List<String> flags = List.of(serverFlags);
    if (!flags.contains("--listen-peer-urls") && !flags.contains("--initial-cluster")) {
      String peer = "http://127.0.0.1:" + Ports.freePort();
      cmd.addAll(List.of("--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer));
    }
    cmd.addAll(flags);
    Files.createDirectories(dataDir);
    Path log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    DkvProcess d = new DkvProcess(proc, p);
    try {
      Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
          .until(() -> !proc.isAlive() || accepts(p));
    } catch (ConditionTimeoutException e) {
      d.kill();
      throw new IOException("dkv-server did not start:\n" + Files.readString(log));
    }
    if (!proc.isAlive()) {
      throw new IOException("dkv-server exited with " + proc.exitValue() + ":\n" + Files.readString(log));
    }
    return d;
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGKILL: no shutdown hook, no flush; what was acknowledged must survive. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM, then waits for the clean shutdown; returns the exit code. */
  public int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
