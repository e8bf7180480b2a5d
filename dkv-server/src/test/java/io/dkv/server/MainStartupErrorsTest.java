package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.dkv.server.storage.Backend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

/**
 * {@code java -jar dkv-server.jar} that cannot start says why in one line naming what failed (no stack trace
 * at the default log level), exits non-zero, and (for a busy port) has created nothing on disk. Each case runs
 * {@link Main} in a JVM of its own.
 */
class MainStartupErrorsTest {

  @TempDir
  Path dir;

  /** A process's exit code and its output lines (stdout and stderr), blank lines left out. */
  record Outcome(int exitCode, List<String> lines) {}

  @Test
  void busyClientPortIsOneLineAndNothingOnDisk() throws Exception {
    Path data = dir.resolve("data");
    try (ServerSocket busy = occupy()) {
      Outcome o = runMain("--data-dir", data.toString(),
          "--listen-client-urls", "http://127.0.0.1:" + busy.getLocalPort());
      assertEquals(new Outcome(Main.EXIT_START_FAILED,
          List.of("dkv-server: cannot listen on 127.0.0.1:" + busy.getLocalPort() + ": address already in use")), o);
    }
    assertFalse(Files.exists(data), "the data directory was created");
  }

  @Test
  void busyMetricsPortIsOneLineAndNothingOnDisk() throws Exception {
    Path data = dir.resolve("data");
    try (ServerSocket busy = occupy(); ServerSocket client = occupy()) {
      int clientPort = client.getLocalPort();
      client.close(); // a free port for the client listener
      Outcome o = runMain("--data-dir", data.toString(),
          "--listen-client-urls", "http://127.0.0.1:" + clientPort,
          "--listen-metrics-urls", "http://127.0.0.1:" + busy.getLocalPort());
      assertEquals(new Outcome(Main.EXIT_START_FAILED,
          List.of("dkv-server: cannot listen on 127.0.0.1:" + busy.getLocalPort() + ": address already in use")), o);
    }
    assertFalse(Files.exists(data), "the data directory was created");
  }

  @Test
  void dataDirectoryInUseByAnotherServerIsOneLine() throws Exception {
    Path data = dir.resolve("data");
    try (DkvServer running = DkvServer.builder().dataDir(data).port(0).start()) {
      Outcome o = runMain("--data-dir", data.toString(), "--listen-client-urls", "http://127.0.0.1:" + freePort());
      assertEquals(new Outcome(Main.EXIT_START_FAILED, List.of("dkv-server: data directory "
          + data.resolve("member").resolve("state") + " is in use by another dkv-server (its LOCK file is held)")),
          o);
    }
  }

  @Test
  void dataDirectoryThatCannotBeCreatedIsOneLine() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
    Path data = file.resolve("data");
    Outcome o = runMain("--data-dir", data.toString(), "--listen-client-urls", "http://127.0.0.1:" + freePort());
    assertEquals(new Outcome(Main.EXIT_START_FAILED,
        List.of("dkv-server: cannot create data directory " + data + ": not a directory (" + data + ")")), o);
  }

  @Test
  void aCorruptDataDirectoryIsOneLineWithoutAStackTrace() throws Exception {
    Path data = dir.resolve("data");
    try (Backend b = Backend.open(data); WriteBatch wb = new WriteBatch()) {
      b.putLease(wb, 7, new byte[] {(byte) 0xff}); // not a lease record
      b.write(wb, true);
    }
    Outcome o = runMain("--data-dir", data.toString(), "--listen-client-urls", "http://127.0.0.1:" + freePort());
    assertEquals(Main.EXIT_START_FAILED, o.exitCode());
    assertEquals("dkv-server: cannot start: java.lang.IllegalStateException: corrupt lease record 7",
        o.lines().get(o.lines().size() - 1));
    assertEquals(List.of(), o.lines().stream().filter(l -> l.startsWith("\tat ") || l.contains("Exception:")
        && !l.startsWith("dkv-server: ")).toList(), "stack trace lines");
  }

  private static ServerSocket occupy() throws IOException {
    return new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = occupy()) {
      return s.getLocalPort();
    }
  }

  private Outcome runMain(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    if (!cmd.contains("--listen-peer-urls")) {
      cmd.addAll(List.of("--listen-peer-urls", "http://127.0.0.1:" + freePort())); // not etcd's 2380
    }
    Path out = dir.resolve("out.txt");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("dkv-server did not exit; output:\n" + Files.readString(out));
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8).stream()
        .filter(l -> !l.isBlank()).toList();
    return new Outcome(p.exitValue(), lines);
  }
}
