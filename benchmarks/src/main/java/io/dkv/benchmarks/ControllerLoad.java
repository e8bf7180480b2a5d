package io.dkv.benchmarks;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.controller.Controller;
import io.dkv.controller.Result;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.testing.DkvProcess;
import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The controller benchmarks, against dkv-server and etcd each in its own process: (a) put-to-reconcile latency
 * under a paced load, (b) reconciles per second of a no-op reconciler with 8 workers, fed by an informer's initial
 * list. The work queue's own throughput is {@link WorkQueueBenchmark} (JMH).
 */
@Command(name = "controller-load", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Put-to-reconcile latency and reconcile throughput: dkv-server against etcd.")
public final class ControllerLoad implements Callable<Integer> {

  @Option(names = "--rate", description = "Changes per second in the latency run (default: ${DEFAULT-VALUE}).")
  int rate = 1000;

  @Option(names = "--seconds", description = "Measured seconds of the latency run (default: ${DEFAULT-VALUE}).")
  int seconds = 10;

  @Option(names = "--objects", description = "Objects reconciled in the throughput run (default: ${DEFAULT-VALUE}).")
  int objects = 50_000;

  @Option(names = "--workers", description = "Workers in the throughput run (default: ${DEFAULT-VALUE}).")
  int workers = 8;

  @Option(names = "--targets", split = ",", description = "Servers to measure (default: ${DEFAULT-VALUE}).")
  List<String> targets = List.of("etcd", "dkv");

  @Option(names = "--dkv-jvm-flags", split = " ",
      description = "JVM flags of the dkv-server process (default: ${DEFAULT-VALUE}).")
  List<String> dkvJvmFlags = List.of("-Xmx2g");

  @Option(names = "--output", description = "Also write the report to this file.")
  Path output;

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("controller-load");
    Map<String, Histogram> latency = new LinkedHashMap<>();
    Map<String, Double> throughput = new LinkedHashMap<>();
    for (String name : targets) {
      try (AutoCloseable server = start(name, dir.resolve(name));
          DkvClient client = DkvClient.connect(endpoint(server))) {
        latency.put(name, latency(client));
        throughput.put(name, throughput(client));
      }
    }
    StringBuilder report = new StringBuilder();
    report.append(String.format("(a) put-to-reconcile latency: %d changes/s to 100 keys for %d s; a controller with "
        + "one worker over an informer; put sent to reconcile started, ms%n%n| server | p50 | p99 | max | "
        + "reconciles |%n| --- | ---: | ---: | ---: | ---: |%n", rate, seconds));
    latency.forEach((n, h) -> report.append(String.format("| %s | %.2f | %.2f | %.2f | %d |%n", n,
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0,
        h.getTotalCount())));
    if (latency.containsKey("dkv")) {
      double p99 = latency.get("dkv").getValueAtPercentile(99) / 1000.0;
      report.append(String.format("%ngoal: p99 under 10 ms — dkv-server %.2f ms, %s%n", p99,
          p99 < 10 ? "met" : "**not met**"));
    }
    report.append(String.format("%n(b) reconciles per second: %,d objects listed by the informer, a no-op "
        + "reconciler, %d workers%n%n| server | reconciles/s |%n| --- | ---: |%n", objects, workers));
    throughput.forEach((n, r) -> report.append(String.format("| %s | %,.0f |%n", n, r)));
    System.out.print(report);
    if (output != null) {
      Files.writeString(output, report);
    }
    return 0;
  }

  private Histogram latency(DkvClient client) throws Exception {
    Recorder recorder = new Recorder(3);
    AtomicLong measureFrom = new AtomicLong(Long.MAX_VALUE);
    try (SharedIndexInformer<Versioned<String>> informer = SharedIndexInformer.builder(
        ListerWatchers.etcd(client, "lat/", Codec.string())).meterRegistry(new SimpleMeterRegistry()).build()) {
      Controller controller = Controller.builder("latency")
          .forResource(informer)
          .meterRegistry(new SimpleMeterRegistry())
          .build(request -> {
            long now = System.nanoTime();
            String value = informer.lister().get(request.key()).map(Versioned::value).orElse(null);
            if (value != null) {
              long sent = Long.parseLong(value.substring(value.indexOf('|') + 1));
              if (sent >= measureFrom.get()) {
                recorder.recordValue((now - sent) / 1000);
              }
            }
            return Result.done();
          });
      informer.start();
      while (!informer.hasSynced()) {
        Thread.sleep(5);
      }
      controller.start();
      KV kv = client.jetcd().getKVClient();
      paced(kv, 5); // warm-up (a fresh dkv-server JVM is not JIT-compiled yet), not measured
      recorder.reset();
      measureFrom.set(System.nanoTime());
      paced(kv, seconds);
      Thread.sleep(1000); // let the last reconciles run
      controller.stop();
    }
    Histogram h = recorder.getIntervalHistogram();
    System.err.printf("latency p99 %.2f ms over %d reconciles%n", h.getValueAtPercentile(99) / 1000.0,
        h.getTotalCount());
    return h;
  }

  private void paced(KV kv, int forSeconds) throws Exception {
    long start = System.nanoTime();
    long n = (long) rate * forSeconds;
    List<CompletableFuture<?>> pending = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      long wait = start + i * 1_000_000_000L / rate - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      String key = "lat/" + (i % 100);
      pending.add(kv.put(bs(key), bs(key + "|" + System.nanoTime())));
      if (pending.size() >= 1000) {
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get();
        pending.clear();
      }
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get();
  }

  private double throughput(DkvClient client) throws Exception {
    KV kv = client.jetcd().getKVClient();
    Semaphore inFlight = new Semaphore(64);
    for (int i = 0; i < objects; i++) {
      inFlight.acquire();
      String key = String.format("obj/%08d", i);
      kv.put(bs(key), bs(key + "|0")).whenComplete((r, e) -> inFlight.release());
    }
    inFlight.acquire(64);
    AtomicLong reconciles = new AtomicLong();
    try (SharedIndexInformer<Versioned<String>> informer = SharedIndexInformer.builder(
        ListerWatchers.etcd(client, "obj/", Codec.string())).meterRegistry(new SimpleMeterRegistry()).build()) {
      informer.start();
      while (!informer.hasSynced()) {
        Thread.sleep(5);
      }
      Controller controller = Controller.builder("throughput")
          .forResource(informer)
          .workers(workers)
          .meterRegistry(new SimpleMeterRegistry())
          .build(request -> {
            reconciles.incrementAndGet();
            return Result.done();
          });
      long started = System.nanoTime();
      controller.start(); // the handler gets every cached object as an initial add: one request each
      while (reconciles.get() < objects) {
        Thread.sleep(1);
      }
      double perSecond = objects / ((System.nanoTime() - started) / 1e9);
      controller.stop();
      System.err.printf("%,.0f reconciles/s%n", perSecond);
      return perSecond;
    }
  }

  private AutoCloseable start(String name, Path data) throws Exception {
    return name.equals("etcd") ? EtcdProcess.start() : DkvProcess.start(data, 0, dkvJvmFlags);
  }

  private static String endpoint(AutoCloseable server) {
    return server instanceof EtcdProcess e ? e.endpoint() : ((DkvProcess) server).endpoint();
  }

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new ControllerLoad()).execute(args));
  }
}
