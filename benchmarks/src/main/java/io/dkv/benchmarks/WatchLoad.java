package io.dkv.benchmarks;

import com.google.protobuf.ByteString;
import io.dkv.testing.DkvProcess;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.PutResponse;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
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
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The watch benchmarks: dkv-server and etcd, each in its own process, measured by the same raw gRPC client
 * (jetcd's generated stubs): (a) fan-out, (b) put-to-event latency under a paced load, (c) server heap per
 * idle watcher, (d) how the cost of matching one write grows with the number of watchers.
 */
@Command(name = "watch-load", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Watch fan-out, latency, memory and matching cost: dkv-server against etcd.")
public final class WatchLoad implements Callable<Integer> {

  @Option(names = "--fanout-watchers", description = "Prefix watchers in the fan-out run (default: ${DEFAULT-VALUE}).")
  int fanoutWatchers = 1000;

  @Option(names = "--fanout-puts", description = "Puts in the fan-out run (default: ${DEFAULT-VALUE}).")
  int fanoutPuts = 1000;

  @Option(names = "--latency-watchers", description = "Watchers in the latency run (default: ${DEFAULT-VALUE}).")
  int latencyWatchers = 100;

  @Option(names = "--latency-rate", description = "Puts per second in the latency run (default: ${DEFAULT-VALUE}).")
  int latencyRate = 500;

  @Option(names = "--latency-seconds", description = "Seconds of the latency run (default: ${DEFAULT-VALUE}).")
  int latencySeconds = 10;

  @Option(names = "--idle-watchers", description = "Idle watchers for the heap measure (default: ${DEFAULT-VALUE}).")
  int idleWatchers = 10_000;

  @Option(names = "--matching-watchers", split = ",",
      description = "Watcher counts for the matching-cost run (default: ${DEFAULT-VALUE}).")
  List<Integer> matchingWatchers = List.of(1_000, 10_000, 100_000);

  @Option(names = "--output", description = "Also write the report to this file.")
  Path output;

  @Option(names = "--dkv-jvm-flags", split = " ",
      description = "JVM flags of the dkv-server process (default: ${DEFAULT-VALUE}).")
  List<String> dkvJvmFlags = List.of("-Xmx2g");

  @Option(names = "--parts", split = ",", description = "Which measures to run: fanout, latency, heap, matching "
      + "(default: all).")
  Set<String> parts = Set.of("fanout", "latency", "heap", "matching");

  private static final int WATCHERS_PER_STREAM = 100;

  /** A server under test with its gRPC channels. */
  private record Target(String name, int port, long pid, AutoCloseable process) {}

  @Override
  public Integer call() throws Exception {
    StringBuilder report = new StringBuilder();
    Map<String, double[]> fanout = new LinkedHashMap<>();
    Map<String, Histogram> latency = new LinkedHashMap<>();
    Map<String, Map<Integer, Histogram>> matching = new LinkedHashMap<>();
    Path dir = Files.createTempDirectory("watch-load");
    for (String name : List.of("etcd", "dkv")) {
      if (parts.contains("fanout")) try (Closer c = new Closer()) {
        Target t = start(name, dir.resolve(name), c);
        fanOut(t, "warm/", fanoutPuts / 4); // warms up the server (dkv's JIT) and the client; not counted
        fanout.put(name, fanOut(t, "fan/", fanoutPuts));
      }
      if (parts.contains("latency")) try (Closer c = new Closer()) {
        Target t = start(name, dir.resolve(name + "-lat"), c);
        latency.put(name, latency(t));
      }
      Map<Integer, Histogram> m = new LinkedHashMap<>();
      for (int n : parts.contains("matching") ? matchingWatchers : List.<Integer>of()) {
        if (name.equals("etcd") && n > 10_000) {
          continue; // etcd with 100k watchers needs more than this machine gives a benchmark
        }
        try (Closer c = new Closer()) {
          Target t = start(name, dir.resolve(name + "-match-" + n), c);
          m.put(n, matching(t, n));
        }
      }
      matching.put(name, m);
    }
    double[] heap = null;
    if (parts.contains("heap")) try (Closer c = new Closer()) {
      Target t = start("dkv", dir.resolve("dkv-heap"), c);
      heap = heapPerIdleWatcher(t);
    }

    if (!fanout.isEmpty()) {
    report.append(String.format("(a) fan-out: %d prefix watchers, %d puts; events delivered per second until "
        + "every watcher has every event%n%n| server | seconds | events/s |%n| --- | ---: | ---: |%n",
        fanoutWatchers, fanoutPuts));
    fanout.forEach((n, r) -> report.append(String.format("| %s | %.2f | %,.0f |%n", n, r[0], r[1])));
    double fanRatio = fanout.get("dkv")[1] / fanout.get("etcd")[1];
    report.append(String.format("%ndkv/etcd: %.2fx (goal: at least 3x) — %s%n%n", fanRatio,
        fanRatio >= 3 ? "met" : "**not met**"));
    }

    if (!latency.isEmpty()) {
    report.append(String.format("(b) latency: %d watchers, %d puts/s for %d s; put sent to event received, ms"
        + "%n%n| server | p50 | p99 | max |%n| --- | ---: | ---: | ---: |%n", latencyWatchers, latencyRate,
        latencySeconds));
    latency.forEach((n, h) -> report.append(String.format("| %s | %.2f | %.2f | %.2f |%n", n,
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0)));
    double p99Ratio = (double) latency.get("dkv").getValueAtPercentile(99)
        / latency.get("etcd").getValueAtPercentile(99);
    report.append(String.format("%ndkv p99 / etcd p99: %.2f (goal: at most 0.2) — %s%n%n", p99Ratio,
        p99Ratio <= 0.2 ? "met" : "**not met**"));
    }

    if (heap != null) {
    report.append(String.format("(c) dkv-server heap per idle watcher (%d watchers on distinct keys, %d per "
        + "stream; heap after a full GC): %.0f bytes per watcher (goal: under etcd's published 350) — %s; "
        + "each stream itself: %.0f bytes%n%n", idleWatchers, WATCHERS_PER_STREAM, heap[0],
        heap[0] < 350 ? "met" : "**not met**", heap[1]));
    }

    if (parts.contains("matching")) {
    report.append("(d) matching cost: watchers on distinct keys, one put at a time to a watched key; "
        + "put sent to event received, ms\n\n| server | watchers | p50 | p99 |\n| --- | ---: | ---: | ---: |\n");
    matching.forEach((n, m) -> m.forEach((count, h) -> report.append(String.format("| %s | %,d | %.2f | %.2f |%n",
        n, count, h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0))));
    }
    System.out.print(report);
    if (output != null) {
      Files.writeString(output, report.toString());
    }
    return 0;
  }

  /** Starts a server and warms it up (a fresh dkv-server JVM is not JIT-compiled yet; etcd is native). */
  private Target start(String name, Path dir, Closer c) throws Exception {
    Target t = launch(name, dir, c);
    try (Closer w = new Closer()) {
      AtomicLong events = new AtomicLong();
      List<WatchCreateRequest> creates = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        creates.add(WatchCreateRequest.newBuilder().setKey(bs("warmup/")).setRangeEnd(prefixEnd("warmup/")).build());
      }
      watch(t, w, creates, observer(r -> events.addAndGet(r.getEventsCount())));
      KVGrpc.KVStub kv = KVGrpc.newStub(channel(t, w));
      putAll(kv, 20_000, i -> "warmup/" + (i % 1000), 32);
      KVGrpc.KVBlockingStub blocking = KVGrpc.newBlockingStub(channel(t, w));
      for (int i = 0; i < 2000; i++) {
        blocking.put(PutRequest.newBuilder().setKey(bs("warmup/one")).setValue(bs("v")).build());
      }
      while (events.get() < 10L * 22_000) {
        Thread.sleep(10); // a benchmark driver polling a counter
      }
    }
    return t;
  }

  private Target launch(String name, Path dir, Closer c) throws IOException {
    if (name.equals("etcd")) {
      LocalEtcd etcd = LocalEtcd.start(c);
      return new Target(name, etcd.etcd().port(), etcd.process().pid(), etcd.etcd());
    }
    DkvProcess dkv = c.add(DkvProcess.start(dir, 0, dkvJvmFlags));
    return new Target(name, dkv.port(), dkv.pid(), dkv);
  }

  private static ManagedChannel channel(Target t, Closer c) {
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", t.port()).usePlaintext()
        .maxInboundMessageSize(64 * 1024 * 1024).build();
    c.add(() -> {
      ch.shutdownNow();
      ch.awaitTermination(5, TimeUnit.SECONDS);
    });
    return ch;
  }

  /** Watch streams on a server, and how many of their watchers the server has confirmed. */
  private static final class Watchers {
    final AtomicLong created = new AtomicLong();
    final List<StreamObserver<WatchRequest>> streams = new ArrayList<>();
    private final Target target;
    private final Closer closer;
    private final StreamObserver<WatchResponse> sink;
    private ManagedChannel channel;

    Watchers(Target target, Closer closer, StreamObserver<WatchResponse> sink) {
      this.target = target;
      this.closer = closer;
      this.sink = sink;
    }

    /** Opens a stream (at most 50 per connection). */
    StreamObserver<WatchRequest> open() {
      if (streams.size() % 50 == 0) {
        channel = channel(target, closer);
      }
      StreamObserver<WatchRequest> s = WatchGrpc.newStub(channel).watch(new StreamObserver<>() {
        @Override
        public void onNext(WatchResponse r) {
          if (r.getCreated()) {
            created.incrementAndGet();
          } else {
            sink.onNext(r);
          }
        }

        @Override
        public void onError(Throwable e) {
        }

        @Override
        public void onCompleted() {
        }
      });
      streams.add(s);
      return s;
    }

    /** Creates the watchers, {@code perStream} on each new stream; returns once the server confirmed all. */
    Watchers create(List<WatchCreateRequest> creates, int perStream) throws InterruptedException {
      StreamObserver<WatchRequest> s = null;
      for (int i = 0; i < creates.size(); i++) {
        if (i % perStream == 0) {
          s = open();
        }
        s.onNext(WatchRequest.newBuilder().setCreateRequest(creates.get(i)).build());
      }
      return awaitCreated(creates.size());
    }

    /** Adds watchers round-robin to the streams already open. */
    Watchers add(List<WatchCreateRequest> creates) throws InterruptedException {
      long before = created.get();
      for (int i = 0; i < creates.size(); i++) {
        streams.get(i % streams.size()).onNext(WatchRequest.newBuilder().setCreateRequest(creates.get(i)).build());
      }
      return awaitCreated(before + creates.size());
    }

    private Watchers awaitCreated(long n) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (created.get() < n) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("only " + created.get() + " of " + n + " watchers created");
        }
        Thread.sleep(10); // a benchmark driver polling a counter
      }
      return this;
    }
  }

  private static void watch(Target t, Closer c, List<WatchCreateRequest> creates, StreamObserver<WatchResponse> sink)
      throws InterruptedException {
    new Watchers(t, c, sink).create(creates, WATCHERS_PER_STREAM);
  }

  /** Etcd's prefix range end of an ASCII prefix. */
  private static ByteString prefixEnd(String prefix) {
    return bs(prefix.substring(0, prefix.length() - 1) + (char) (prefix.charAt(prefix.length() - 1) + 1));
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** (a) Every watcher watches the same prefix; returns {seconds, events per second}. */
  private double[] fanOut(Target t, String prefix, int puts) throws Exception {
    try (Closer c = new Closer()) {
      AtomicLong events = new AtomicLong();
      AtomicLong responses = new AtomicLong();
      List<WatchCreateRequest> creates = new ArrayList<>();
      for (int i = 0; i < fanoutWatchers; i++) {
        creates.add(WatchCreateRequest.newBuilder().setKey(bs(prefix))
            .setRangeEnd(prefixEnd(prefix)).build());
      }
      watch(t, c, creates, observer(r -> {
        responses.incrementAndGet();
        events.addAndGet(r.getEventsCount());
      }));
      KVGrpc.KVStub kv = KVGrpc.newStub(channel(t, c));
      long total = (long) fanoutWatchers * puts;
      long serverCpu0 = cpuNanos(t.pid());
      long clientCpu0 = cpuNanos(ProcessHandle.current().pid());
      long start = System.nanoTime();
      putAll(kv, puts, i -> prefix + (i % 100), 128);
      while (events.get() < total) {
        Thread.sleep(1); // a benchmark driver polling a counter
        if (System.nanoTime() - start > TimeUnit.MINUTES.toNanos(5)) {
          throw new IllegalStateException(t.name() + ": only " + events.get() + " of " + total + " events");
        }
      }
      double secs = (System.nanoTime() - start) / 1e9;
      System.err.printf("%s fan-out: %d events in %d responses, %.2f s; CPU s: server %.2f, client %.2f%n",
          t.name(), events.get(), responses.get(), secs, (cpuNanos(t.pid()) - serverCpu0) / 1e9,
          (cpuNanos(ProcessHandle.current().pid()) - clientCpu0) / 1e9);
      return new double[] {secs, total / secs};
    }
  }

  /** (b) Paced puts; each value carries its send time; latency measured at every watcher. */
  private Histogram latency(Target t) throws Exception {
    try (Closer c = new Closer()) {
      Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
      Histogram acks = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
      List<WatchCreateRequest> creates = new ArrayList<>();
      for (int i = 0; i < latencyWatchers; i++) {
        creates.add(WatchCreateRequest.newBuilder().setKey(bs("lat/")).setRangeEnd(bs("lat0")).build());
      }
      long[] warmupUntil = {Long.MAX_VALUE};
      // a stream per watcher, as separate clients would have: one stream's callbacks run on one thread
      new Watchers(t, c, observer(r -> {
        long now = System.nanoTime();
        for (var e : r.getEventsList()) {
          long sent = e.getKv().getValue().asReadOnlyByteBuffer().getLong();
          if (sent > warmupUntil[0]) {
            synchronized (h) {
              h.recordValue(Math.min((now - sent) / 1000, h.getHighestTrackableValue()));
            }
          }
        }
      })).create(creates, 1);
      KVGrpc.KVStub kv = KVGrpc.newStub(channel(t, c));
      long interval = TimeUnit.SECONDS.toNanos(1) / latencyRate;
      long start = System.nanoTime();
      warmupUntil[0] = start + TimeUnit.SECONDS.toNanos(2);
      long n = (long) latencyRate * (latencySeconds + 2);
      for (long i = 0; i < n; i++) {
        long due = start + i * interval;
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
          java.util.concurrent.locks.LockSupport.parkNanos(wait); // pacing, without spinning a core
        }
        long sentAt = System.nanoTime();
        ByteBuffer v = ByteBuffer.allocate(64).putLong(sentAt);
        kv.put(PutRequest.newBuilder().setKey(bs("lat/" + (i % 50))).setValue(ByteString.copyFrom(v.array()))
            .build(), observer(r -> {
              if (sentAt > warmupUntil[0]) {
                synchronized (acks) {
                  acks.recordValue(Math.min((System.nanoTime() - sentAt) / 1000, acks.getHighestTrackableValue()));
                }
              }
            }));
      }
      long expected = (long) latencyRate * latencySeconds * latencyWatchers;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (h.getTotalCount() < expected * 99 / 100 && System.nanoTime() < deadline) {
        Thread.sleep(10); // a benchmark driver polling a counter
      }
      System.err.printf("%s: put acknowledged p50 %.2f ms, p99 %.2f ms%n", t.name(),
          acks.getValueAtPercentile(50) / 1000.0, acks.getValueAtPercentile(99) / 1000.0);
      return h.copy();
    }
  }

  /** (d) {@code n} watchers on distinct keys; one put at a time to a watched key, until its event arrives. */
  private Histogram matching(Target t, int n) throws Exception {
    try (Closer c = new Closer()) {
      List<WatchCreateRequest> creates = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        creates.add(WatchCreateRequest.newBuilder().setKey(bs(String.format("m/%07d", i))).build());
      }
      Semaphore arrived = new Semaphore(0);
      watch(t, c, creates, observer(r -> arrived.release(r.getEventsCount())));
      KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel(t, c));
      Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
      for (int i = 0; i < 600; i++) {
        long start = System.nanoTime();
        kv.put(PutRequest.newBuilder().setKey(bs(String.format("m/%07d", (i * 7919) % n))).setValue(bs("v")).build());
        if (!arrived.tryAcquire(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException(t.name() + ": no event for put " + i);
        }
        if (i >= 100) { // the first 100 warm up
          h.recordValue((System.nanoTime() - start) / 1000);
        }
      }
      return h;
    }
  }

  /**
   * (c) The marginal heap of an idle watcher: streams are opened with one watcher each first, then the
   * rest of the watchers are added to the same streams; heap after a full GC, before and after, per added
   * watcher. The streams' own cost (gRPC's and HTTP/2's per-stream state) is reported apart.
   */
  private double[] heapPerIdleWatcher(Target t) throws Exception {
    try (Closer c = new Closer()) {
      long empty = heapAfterGc(t.pid());
      int streams = idleWatchers / WATCHERS_PER_STREAM;
      List<WatchCreateRequest> first = new ArrayList<>();
      List<WatchCreateRequest> rest = new ArrayList<>();
      for (int i = 0; i < idleWatchers; i++) {
        WatchCreateRequest w = WatchCreateRequest.newBuilder().setKey(bs(String.format("idle/%07d", i))).build();
        (i % WATCHERS_PER_STREAM == 0 ? first : rest).add(w);
      }
      Watchers w = new Watchers(t, c, observer(r -> { })).create(first, 1);
      long withStreams = heapAfterGc(t.pid());
      w.add(rest);
      long full = heapAfterGc(t.pid());
      return new double[] {(full - withStreams) / (double) rest.size(), (withStreams - empty) / (double) streams};
    }
  }

  private static long cpuNanos(long pid) {
    return ProcessHandle.of(pid).flatMap(p -> p.info().totalCpuDuration()).map(Duration::toNanos).orElse(0L);
  }

  /** Used heap in bytes after a full GC, from {@code jcmd}. */
  private static long heapAfterGc(long pid) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    run(jcmd, Long.toString(pid), "GC.run");
    String info = run(jcmd, Long.toString(pid), "GC.heap_info");
    // G1: " garbage-first heap   total 123K, used 45K [...]"
    var m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
    if (!m.find()) {
      throw new IllegalStateException("cannot read the heap: " + info);
    }
    return Long.parseLong(m.group(1)) * 1024;
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }

  private static void putAll(KVGrpc.KVStub kv, int count, java.util.function.IntFunction<String> key, int inFlight)
      throws InterruptedException {
    Semaphore slots = new Semaphore(inFlight);
    for (int i = 0; i < count; i++) {
      slots.acquire();
      kv.put(PutRequest.newBuilder().setKey(bs(key.apply(i))).setValue(ByteString.copyFrom(new byte[256])).build(),
          new StreamObserver<PutResponse>() {
            @Override
            public void onNext(PutResponse r) {
            }

            @Override
            public void onError(Throwable t) {
              slots.release();
            }

            @Override
            public void onCompleted() {
              slots.release();
            }
          });
    }
    slots.acquire(inFlight);
  }

  private static <T> StreamObserver<T> observer(java.util.function.Consumer<T> onNext) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        onNext.accept(value);
      }

      @Override
      public void onError(Throwable t) {
      }

      @Override
      public void onCompleted() {
      }
    };
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new WatchLoad()).execute(args));
  }
}
