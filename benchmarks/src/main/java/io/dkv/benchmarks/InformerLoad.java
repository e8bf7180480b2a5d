package io.dkv.benchmarks;

import io.dkv.testing.Ports;
import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.ResourceEventHandler;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.testing.DkvProcess;
import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The informer benchmarks, against dkv-server and etcd each in its own process: (a) cold sync of a large
 * prefix, (b) put-to-handler latency under a paced load, (c) server requests per second with idle informers
 * against pollers, (d) relists after a server restart.
 */
@Command(name = "informer-load", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Informer cold sync, latency, idle traffic and restart behaviour: dkv-server against etcd.")
public final class InformerLoad implements Callable<Integer> {

  @Option(names = "--sync-keys", description = "Keys in the cold-sync run (default: ${DEFAULT-VALUE}).")
  int syncKeys = 100_000;

  @Option(names = "--value-bytes", description = "Value size in the cold-sync run (default: ${DEFAULT-VALUE}).")
  int valueBytes = 1024;

  @Option(names = "--latency-rate", description = "Puts per second in the latency run (default: ${DEFAULT-VALUE}).")
  int latencyRate = 1000;

  @Option(names = "--latency-seconds", description = "Measured seconds of the latency run (default: ${DEFAULT-VALUE}).")
  int latencySeconds = 10;

  @Option(names = "--idle-clients", description = "Informers, and pollers, in the idle run (default: ${DEFAULT-VALUE}).")
  int idleClients = 50;

  @Option(names = "--idle-seconds", description = "Seconds of each idle measure (default: ${DEFAULT-VALUE}).")
  int idleSeconds = 20;

  @Option(names = "--restart-informers", description = "Informers in the restart run (default: ${DEFAULT-VALUE}).")
  int restartInformers = 200;

  @Option(names = "--parts", split = ",", description = "Which measures to run: sync, latency, idle, restart "
      + "(default: all).")
  Set<String> parts = Set.of("sync", "latency", "idle", "restart");

  @Option(names = "--targets", split = ",", description = "Servers to measure (default: ${DEFAULT-VALUE}).")
  List<String> targets = List.of("etcd", "dkv");

  @Option(names = "--dkv-jvm-flags", split = " ",
      description = "JVM flags of the dkv-server process (default: ${DEFAULT-VALUE}).")
  List<String> dkvJvmFlags = List.of("-Xmx2g");

  @Option(names = "--output", description = "Also write the report to this file.")
  Path output;

  /** A server under test. */
  private record Target(String name, String endpoint, int metricsPort, AutoCloseable process) {}

  private Path dir;

  @Override
  public Integer call() throws Exception {
    dir = Files.createTempDirectory("informer-load");
    StringBuilder report = new StringBuilder();
    Map<String, String> sync = new LinkedHashMap<>();
    Map<String, Histogram> latency = new LinkedHashMap<>();
    Map<String, double[]> idle = new LinkedHashMap<>();
    for (String name : targets) {
      if (parts.contains("sync")) {
        sync.put(name, coldSync(name));
      }
      if (parts.contains("latency")) {
        latency.put(name, latency(name));
      }
      if (parts.contains("idle")) {
        idle.put(name, idle(name));
      }
    }
    if (!sync.isEmpty()) {
      report.append(String.format("(a) cold sync of %,d keys of %d bytes (%.0f MiB of keys and values)%n%n"
          + "| server | seconds | peak heap above baseline, MiB | retained after GC, MiB | retained / raw |%n"
          + "| --- | ---: | ---: | ---: | ---: |%n", syncKeys, valueBytes, rawBytes() / 1048576.0));
      sync.forEach((n, row) -> report.append("| ").append(n).append(" | ").append(row).append(" |\n"));
      report.append('\n');
    }
    if (!latency.isEmpty()) {
      report.append(String.format("(b) put-to-handler latency, %d puts/s for %d s; put sent to onUpdate/onAdd "
          + "returned, ms%n%n| server | p50 | p99 | max | count |%n| --- | ---: | ---: | ---: | ---: |%n",
          latencyRate, latencySeconds));
      latency.forEach((n, h) -> report.append(String.format("| %s | %.2f | %.2f | %.2f | %d |%n", n,
          h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0,
          h.getTotalCount())));
      if (latency.containsKey("dkv")) {
        double p99 = latency.get("dkv").getValueAtPercentile(99) / 1000.0;
        report.append(String.format("%ngoal: p99 under 10 ms on dkv-server — %.2f ms, %s%n", p99,
            p99 < 10 ? "met" : "**not met**"));
      }
      report.append('\n');
    }
    if (!idle.isEmpty()) {
      report.append(String.format("(c) server requests per second (gRPC messages received, from the server's "
          + "grpc_server_msg_received_total) over %d s: %d idle informers, then %d workers each polling once a "
          + "second%n%n| server | idle informers | pollers |%n| --- | ---: | ---: |%n", idleSeconds, idleClients,
          idleClients));
      idle.forEach((n, r) -> report.append(String.format("| %s | %.2f | %.2f |%n", n, r[0], r[1])));
      report.append("\ngoal: 0 requests/s from idle informers\n\n");
    }
    if (parts.contains("restart") && targets.contains("dkv")) {
      report.append(restart());
    }
    System.out.print(report);
    if (output != null) {
      Files.writeString(output, report);
    }
    return 0;
  }

  private long rawBytes() {
    return (long) syncKeys * (valueBytes + String.format("sync/%08d", 0).length());
  }

  // (a) ------------------------------------------------------------------------------------------------

  private String coldSync(String name) throws Exception {
    try (Closer c = new Closer()) {
      Target t = start(name, dir.resolve(name + "-sync"), c, 0);
      try (DkvClient loader = DkvClient.connect(t.endpoint())) {
        byte[] value = new byte[valueBytes];
        java.util.Arrays.fill(value, (byte) 'x');
        putAll(loader.jetcd().getKVClient(), syncKeys, i -> String.format("sync/%08d", i), value);
      }
      System.gc();
      long baseline = usedHeap();
      List<MemoryPoolMXBean> pools = heapPools();
      pools.forEach(MemoryPoolMXBean::resetPeakUsage);
      long started = System.nanoTime();
      try (DkvClient client = DkvClient.connect(t.endpoint());
          SharedIndexInformer<Versioned<byte[]>> informer = SharedIndexInformer.builder(
              ListerWatchers.etcd(client, "sync/", Codec.bytes())).build()) {
        informer.start();
        while (!informer.hasSynced()) {
          Thread.sleep(5); // a benchmark driver polling a flag
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        long peak = pools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum() - baseline;
        if (informer.lister().keys().size() != syncKeys) {
          throw new IllegalStateException("synced " + informer.lister().keys().size() + " keys, not " + syncKeys);
        }
        System.gc();
        long retained = usedHeap() - baseline;
        System.err.printf("%s: cold sync %.2f s%n", name, seconds);
        return String.format("%.2f | %.0f | %.0f | %.2f", seconds, peak / 1048576.0, retained / 1048576.0,
            (double) retained / rawBytes());
      }
    }
  }

  private static List<MemoryPoolMXBean> heapPools() {
    return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
  }

  private static long usedHeap() {
    return heapPools().stream().mapToLong(p -> p.getUsage().getUsed()).sum();
  }

  // (b) ------------------------------------------------------------------------------------------------

  private Histogram latency(String name) throws Exception {
    try (Closer c = new Closer()) {
      Target t = start(name, dir.resolve(name + "-latency"), c, 0);
      Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
      try (DkvClient client = DkvClient.connect(t.endpoint());
          SharedIndexInformer<Versioned<byte[]>> informer = SharedIndexInformer.builder(
              ListerWatchers.etcd(client, "lat/", Codec.bytes())).build()) {
        long[] measureFrom = {Long.MAX_VALUE};
        informer.addEventHandler(new ResourceEventHandler<>() {
          @Override
          public void onAdd(Versioned<byte[]> value, boolean initial) {
            record(value.value());
          }

          @Override
          public void onUpdate(Versioned<byte[]> before, Versioned<byte[]> after) {
            record(after.value());
          }

          private void record(byte[] value) {
            long sent = ByteBuffer.wrap(value).getLong();
            if (sent >= measureFrom[0]) { // one listener thread calls this handler: no lock needed
              h.recordValue(Math.min(h.getHighestTrackableValue(), (System.nanoTime() - sent) / 1000));
            }
          }
        });
        informer.start();
        while (!informer.hasSynced()) {
          Thread.sleep(5);
        }
        KV kv = client.jetcd().getKVClient();
        paced(kv, 5, Long.MAX_VALUE); // warm-up (a fresh dkv-server JVM is not JIT-compiled yet), not measured
        long from = System.nanoTime();
        measureFrom[0] = from;
        long expected = paced(kv, latencySeconds, from);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (h.getTotalCount() < expected && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
      }
      System.err.printf("%s: latency p99 %.2f ms%n", name, h.getValueAtPercentile(99) / 1000.0);
      return h;
    }
  }

  /** Puts at {@link #latencyRate} for {@code seconds}, each value the send time; returns the puts done. */
  private long paced(KV kv, int seconds, long notBefore) throws Exception {
    long start = Math.max(System.nanoTime(), notBefore == Long.MAX_VALUE ? 0 : notBefore);
    long n = (long) latencyRate * seconds;
    List<CompletableFuture<?>> pending = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      long due = start + i * 1_000_000_000L / latencyRate;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      byte[] value = ByteBuffer.allocate(64).putLong(System.nanoTime()).array();
      pending.add(kv.put(bs("lat/" + (i % 100)), ByteSequence.from(value)));
      if (pending.size() >= 1000) {
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get();
        pending.clear();
      }
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get();
    return n;
  }

  // (c) ------------------------------------------------------------------------------------------------

  private double[] idle(String name) throws Exception {
    try (Closer c = new Closer()) {
      int metricsPort = Ports.freePort();
      Target t = start(name, dir.resolve(name + "-idle"), c, metricsPort);
      List<DkvClient> clients = new ArrayList<>();
      for (int i = 0; i < idleClients; i++) {
        DkvClient client = c.add(DkvClient.connect(t.endpoint()));
        clients.add(client);
        client.put("idle/" + i + "/a", "v");
      }
      List<SharedIndexInformer<Versioned<String>>> informers = new ArrayList<>();
      for (int i = 0; i < idleClients; i++) {
        informers.add(c.add(SharedIndexInformer.builder(
            ListerWatchers.etcd(clients.get(i), "idle/" + i + "/", Codec.string())).build()).start());
      }
      while (!informers.stream().allMatch(SharedIndexInformer::hasSynced)) {
        Thread.sleep(10);
      }
      Thread.sleep(2000); // let the watches open
      double informerRate = requestRate(t, () -> Thread.sleep(idleSeconds * 1000L));
      for (SharedIndexInformer<Versioned<String>> informer : informers) {
        informer.close();
      }
      double pollRate = requestRate(t, () -> {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(idleSeconds);
        while (System.nanoTime() < end) {
          long tick = System.nanoTime();
          for (int i = 0; i < idleClients; i++) {
            clients.get(i).list("idle/" + i + "/", Codec.string()); // what each polling worker does each second
          }
          LockSupport.parkNanos(1_000_000_000L - (System.nanoTime() - tick));
        }
      });
      System.err.printf("%s: idle informers %.2f req/s, pollers %.2f req/s%n", name, informerRate, pollRate);
      return new double[] {informerRate, pollRate};
    }
  }

  private interface Phase {
    void run() throws Exception;
  }

  private static double requestRate(Target t, Phase phase) throws Exception {
    long before = messagesReceived(t);
    long start = System.nanoTime();
    phase.run();
    long after = messagesReceived(t);
    return (after - before) / ((System.nanoTime() - start) / 1e9);
  }

  private static long messagesReceived(Target t) throws IOException, InterruptedException {
    String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + t.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return text.lines().filter(l -> l.startsWith("grpc_server_msg_received_total"))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  // (d) ------------------------------------------------------------------------------------------------

  private String restart() throws Exception {
    Path data = dir.resolve("dkv-restart");
    int port = Ports.freePort();
    List<DkvClient> clients = new ArrayList<>();
    List<SharedIndexInformer<Versioned<String>>> informers = new ArrayList<>();
    List<CountingListerWatcher<Versioned<String>>> sources = new ArrayList<>();
    DkvProcess server = DkvProcess.start(data, port, dkvJvmFlags);
    try {
      int perClient = 10;
      for (int i = 0; i < restartInformers; i++) {
        if (i % perClient == 0) {
          clients.add(DkvClient.connect(server.endpoint()));
        }
        DkvClient client = clients.get(clients.size() - 1);
        client.put("restart/" + i + "/before", "v");
        CountingListerWatcher<Versioned<String>> source =
            new CountingListerWatcher<>(ListerWatchers.etcd(client, "restart/" + i + "/", Codec.string()));
        sources.add(source);
        informers.add(SharedIndexInformer.builder(source).build().start());
      }
      while (!informers.stream().allMatch(SharedIndexInformer::hasSynced)) {
        Thread.sleep(10);
      }
      long listsBefore = sources.stream().mapToLong(CountingListerWatcher::lists).sum();
      server.stop();
      long down = System.nanoTime();
      server = DkvProcess.start(data, port, dkvJvmFlags);
      try (DkvClient writer = DkvClient.connect(server.endpoint())) {
        for (int i = 0; i < restartInformers; i++) {
          writer.put("restart/" + i + "/after", "v");
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      int caughtUp = 0;
      while (System.nanoTime() < deadline) {
        caughtUp = (int) informers.stream().filter(inf -> inf.lister().get(keyAfter(informers, inf)).isPresent())
            .count();
        if (caughtUp == restartInformers) {
          break;
        }
        Thread.sleep(20);
      }
      double seconds = (System.nanoTime() - down) / 1e9;
      long relists = sources.stream().mapToLong(CountingListerWatcher::lists).sum() - listsBefore;
      return String.format("(d) restart: %d informers (%d clients) on dkv-server; the server stopped and started "
          + "again on the same data and port, then one put per informer's prefix%n%n"
          + "| informers caught up | seconds from stop to all caught up | relists |%n| ---: | ---: | ---: |%n"
          + "| %d / %d | %.1f | %d |%n%ngoal: 0 relists while the history is retained — %s%n%n", restartInformers,
          clients.size(), caughtUp, restartInformers, seconds, relists, relists == 0 ? "met" : "**not met**");
    } finally {
      for (SharedIndexInformer<Versioned<String>> informer : informers) {
        informer.close();
      }
      for (DkvClient client : clients) {
        client.close();
      }
      server.close();
    }
  }

  private static String keyAfter(List<SharedIndexInformer<Versioned<String>>> informers, SharedIndexInformer<Versioned<String>> informer) {
    return "restart/" + informers.indexOf(informer) + "/after";
  }

  // servers ----------------------------------------------------------------------------------------------

  private Target start(String name, Path data, Closer c, int metricsPort) throws Exception {
    List<String> metricsFlags = metricsPort == 0 ? List.of()
        : List.of("--listen-metrics-urls", "http://127.0.0.1:" + metricsPort);
    if (name.equals("etcd")) {
      EtcdProcess etcd = c.add(EtcdProcess.start(metricsFlags.toArray(String[]::new)));
      return new Target(name, etcd.endpoint(), metricsPort, etcd);
    }
    DkvProcess dkv = c.add(DkvProcess.start(data, 0, dkvJvmFlags, metricsFlags.toArray(String[]::new)));
    return new Target(name, dkv.endpoint(), metricsPort, dkv);
  }

  private static void putAll(KV kv, int n, java.util.function.IntFunction<String> key, byte[] value)
      throws InterruptedException {
    Semaphore inFlight = new Semaphore(64);
    ByteSequence v = ByteSequence.from(value);
    for (int i = 0; i < n; i++) {
      inFlight.acquire();
      kv.put(bs(key.apply(i)), v).whenComplete((r, e) -> {
        if (e != null) {
          System.err.println("put failed: " + e);
        }
        inFlight.release();
      });
    }
    inFlight.acquire(64);
  }

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, java.nio.charset.StandardCharsets.UTF_8);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new InformerLoad()).execute(args));
  }
}
