package io.dkv.controller;

import io.dkv.testing.LogCapture;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.DkvException;
import io.dkv.client.Subscription;
import io.dkv.client.Versioned;
import io.dkv.client.WatchEvent;
import io.dkv.client.WatchHandler;
import io.dkv.client.WatchOptions;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.server.DkvServer;
import io.dkv.testing.EtcdProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: after a 45 s outage, a watch-driven worker ({@link DkvClient#watchPrefix}) and a controller (an
 * informer from {@link ListerWatchers#etcd} under a {@link Manager}) both act on a key written right after the
 * server's return within 2 s of it answering again; before the fix gRPC's reconnect backoff (1 s doubling to 120 s)
 * made that 20 s. The server is stopped and restarted on the same port with the same data. The informer logs one
 * WARN for the loss and one INFO for the resume. Run alone with {@code -Dtest=OutageRecoveryTest}; its one case runs
 * the dkv-server and the etcd side at once and takes about a minute, most of it the outage. The measured times
 * are printed.
 */
class OutageRecoveryTest {

  private static final Duration OUTAGE = Duration.ofSeconds(45);
  /** The requirement, measured from when the restarted server answers. */
  private static final Duration ACT_WITHIN = Duration.ofSeconds(2);

  @TempDir
  Path dir;

  /** A server that can be stopped and started again on the same port and data. */
  interface Restartable extends AutoCloseable {
    String endpoint();

    void stop() throws Exception;

    /** Starts it again; returns once it answers. */
    void restart() throws Exception;

    @Override
    void close();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The embedded dkv-server, closed and started again. */
  static final class Dkv implements Restartable {
    private final Path data;
    private final int port;
    private DkvServer server;

    Dkv(Path data) throws IOException {
      this.data = data;
      this.port = freePort();
      this.server = DkvServer.builder().dataDir(data).port(port).start();
    }

    @Override
    public String endpoint() {
      return "127.0.0.1:" + port;
    }

    @Override
    public void stop() {
      server.close();
      server = null;
    }

    @Override
    public void restart() throws IOException {
      server = DkvServer.builder().dataDir(data).port(port).start(); // returns once it serves
    }

    @Override
    public void close() {
      if (server != null) {
        server.close();
      }
    }
  }

  /** A real etcd process, killed (SIGKILL) and started again with the same ports and data directory. */
  static final class Etcd implements Restartable {
    private final List<String> command;
    private final Path log;
    private final int port;
    private Process process;

    Etcd(Path dir) throws Exception {
      EtcdProcess.assumeInstalled();
      port = freePort();
      int peer = freePort();
      command = List.of(EtcdProcess.binary().toString(), "--name", "outage", "--data-dir",
          dir.resolve("data").toString(), "--listen-client-urls", "http://127.0.0.1:" + port,
          "--advertise-client-urls", "http://127.0.0.1:" + port, "--listen-peer-urls", "http://127.0.0.1:" + peer,
          "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer, "--initial-cluster",
          "outage=http://127.0.0.1:" + peer, "--log-level", "error");
      log = dir.resolve("etcd.log");
      restart();
    }

    @Override
    public String endpoint() {
      return "127.0.0.1:" + port;
    }

    @Override
    public void stop() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void restart() throws IOException {
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(this::healthy);
    }

    private boolean healthy() {
      try {
        var c = (java.net.HttpURLConnection) URI.create("http://" + endpoint() + "/health").toURL().openConnection();
        c.setConnectTimeout(500);
        c.setReadTimeout(500);
        return c.getResponseCode() == 200;
      } catch (IOException e) {
        return false;
      }
    }

    @Override
    public void close() {
      if (process != null) {
        process.destroyForcibly();
      }
    }
  }

  /**
   * The same outage of a dkv-server and of an etcd at once (most of the case is the outage: run one after the
   * other they took twice as long); each side's failure names it.
   */
  @Test
  void onDkvServerAndOnEtcdWorkerAndControllerActWithinTwoSecondsOfTheReturn() throws Exception {
    // threads of their own: the common pool is the embedded server's too (Ratis runs tasks on it)
    ExecutorService sides = Executors.newFixedThreadPool(2);
    try {
      CompletableFuture<Void> dkv = CompletableFuture.runAsync(
          () -> run("dkv-server", () -> new Dkv(dir.resolve("dkv"))), sides);
      CompletableFuture<Void> etcd = CompletableFuture.runAsync(
          () -> run("etcd", () -> new Etcd(java.nio.file.Files.createDirectories(dir.resolve("etcd")))), sides);
      CompletableFuture.allOf(dkv, etcd).exceptionally(e -> null).join();
      dkv.join();
      etcd.join();
    } finally {
      sides.shutdownNow();
    }
  }

  private interface ServerStart {
    Restartable start() throws Exception;
  }

  private void run(String kind, ServerStart start) {
    try (Restartable server = start.start()) {
      workerAndControllerActWithinTwoSecondsOfTheReturn(kind, server);
    } catch (Throwable e) {
      throw new AssertionError(kind + ": " + e.getMessage(), e);
    }
  }

  private static boolean putFails(DkvClient client) {
    try {
      client.put("probe", "while down");
      return false;
    } catch (DkvException expected) {
      return true;
    }
  }

  private void workerAndControllerActWithinTwoSecondsOfTheReturn(String kind, Restartable server)
      throws Exception {
    String prefix = "jobs-" + kind + "/"; // both sides run at once: each its own keys and informer log lines
    Map<String, Long> workerSaw = new ConcurrentHashMap<>();
    Map<String, Long> controllerSaw = new ConcurrentHashMap<>();
    try (LogCapture reflectorLog = new LogCapture(Class.forName("io.dkv.informer.Reflector"));
        DkvClient client = DkvClient.builder().endpoints(server.endpoint()).connectTimeout(Duration.ofSeconds(2))
            .requestTimeout(Duration.ofSeconds(10)).build();
        Subscription worker = client.watchPrefix(prefix, Codec.string(), WatchOptions.defaults(),
            new WatchHandler<>() {
              @Override
              public void onEvent(WatchEvent<String> e) {
                workerSaw.putIfAbsent(e.key(), System.nanoTime());
              }
            });
        Manager manager = Manager.builder().build()) {
      SharedIndexInformer<Versioned<String>> jobs = SharedIndexInformer
          .builder(ListerWatchers.etcd(client, prefix, Codec.string())).build();
      manager.add(Controller.builder("outage-" + kind).meterRegistry(manager.meterRegistry())
          .forResource(jobs)
          .build(request -> {
            controllerSaw.putIfAbsent(request.key(), System.nanoTime());
            return Result.done();
          }));
      manager.start();
      client.put(prefix + "before", "before");
      await().atMost(Duration.ofSeconds(30)).until(() -> workerSaw.containsKey(prefix + "before")
          && controllerSaw.containsKey(prefix + "before"));

      server.stop();
      long down = System.nanoTime();
      // the whole outage: every request fails, and fast (each within the 2 s connect timeout)
      await().during(OUTAGE).atMost(OUTAGE.plusSeconds(15)).pollInterval(Duration.ofSeconds(1))
          .until(() -> putFails(client));
      server.restart();
      long back = System.nanoTime();
      System.out.printf("%s: down for %d s%n", kind, TimeUnit.NANOSECONDS.toSeconds(back - down));

      try (DkvClient writer = DkvClient.connect(server.endpoint())) { // a new process's client: no backoff to wait
        writer.put(prefix + "after", "after");
      }
      long left = ACT_WITHIN.toNanos() - (System.nanoTime() - back);
      try {
        await().atMost(Duration.ofNanos(Math.max(left, 1))).pollInterval(Duration.ofMillis(10))
            .until(() -> workerSaw.containsKey(prefix + "after") && controllerSaw.containsKey(prefix + "after"));
      } finally {
        System.out.printf("%s: after the server answered again, the worker acted in %s ms, the controller in %s"
            + " ms%n", kind, since(back, workerSaw.get(prefix + "after")), since(back, controllerSaw.get(prefix + "after")));
      }

      List<String> lines = reflectorLog.operatorLines().stream().filter(l -> l.contains(prefix)).toList();
      System.out.printf("%s: the informer logged %s%n", kind, lines);
      assertEquals(1, lines.stream().filter(l -> l.startsWith("WARN") && l.contains("lost its source etcd:" + prefix))
          .count(), lines.toString());
      assertEquals(1, lines.stream()
          .filter(l -> l.startsWith("INFO") && l.contains("source etcd:" + prefix + " answers again")).count(),
          lines.toString());
      assertTrue(jobs.lastError().isEmpty(), "no error once resumed");
    }
  }

  private static String since(long start, Long at) {
    return at == null ? "(never)" : String.valueOf(TimeUnit.NANOSECONDS.toMillis(at - start));
  }
}
