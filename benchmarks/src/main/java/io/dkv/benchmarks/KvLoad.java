package io.dkv.benchmarks;

import io.dkv.server.testing.DkvProcess;
import io.dkv.server.testing.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load harness: starts a real etcd and a dkv-server, each in a process of its own on this machine, one
 * after the other, and runs the same jetcd workload against each: durable puts at 1, 16 and 128 requests in
 * flight, then linearizable gets at 16 in flight, over a bounded key space. Prints a Markdown report with
 * the throughput ratio dkv/etcd and the goals of the benchmark issue.
 */
@Command(name = "kv-load", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Runs the same jetcd workload against etcd and dkv-server and prints the ratio.")
public final class KvLoad implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(KvLoad.class);

  @Option(names = "--duration", description = "Measured seconds per phase (default: ${DEFAULT-VALUE}).")
  int durationSeconds = 10;

  @Option(names = "--warmup", description = "Unmeasured seconds before each phase (default: ${DEFAULT-VALUE}).")
  int warmupSeconds = 3;

  @Option(names = "--initial-warmup", description = "Unmeasured seconds of puts at 128 in flight before the "
      + "first phase, so the server (a JIT-compiled JVM in dkv's case) is measured warm (default: ${DEFAULT-VALUE}).")
  int initialWarmupSeconds = 5;

  @Option(names = "--keys", description = "Size of the key space (default: ${DEFAULT-VALUE}).")
  int keys = 10_000;

  @Option(names = "--value-bytes", description = "Bytes per value (default: ${DEFAULT-VALUE}).")
  int valueBytes = 256;

  @Option(names = "--targets", split = ",",
      description = "Servers to run against, in order: etcd, dkv (default: ${DEFAULT-VALUE}).")
  List<String> targets = List.of("etcd", "dkv");

  @Option(names = "--dkv-jvm-flags", split = " ",
      description = "JVM flags of the dkv-server process (default: ${DEFAULT-VALUE}).")
  List<String> dkvJvmFlags = List.of("-Xmx1g");

  @Option(names = "--output", description = "Also write the report to this file.")
  Path output;

  /** The phases, in the order they run. */
  enum Phase {
    PUT_1("put, 1 in flight", 1),
    PUT_16("put, 16 in flight", 16),
    PUT_128("put, 128 in flight", 128),
    GET_16("get (linearizable), 16 in flight", 16);

    final String label;
    final int inFlight;

    Phase(String label, int inFlight) {
      this.label = label;
      this.inFlight = inFlight;
    }
  }

  @Override
  public Integer call() throws Exception {
    for (String t : targets) {
      if (!t.equals("etcd") && !t.equals("dkv")) {
        throw new CommandLine.ParameterException(new CommandLine(this), "unknown target " + t);
      }
    }
    if (EtcdProcess.binary() == null && targets.contains("etcd")) {
      throw new IllegalStateException("etcd is not installed (set ETCD_BIN, or put etcd on the PATH)");
    }
    Map<String, Map<Phase, LoadPhase.Result>> results = new LinkedHashMap<>();
    for (String target : targets) {
      results.put(target, runTarget(target));
    }
    String report = Report.render(results, this);
    System.out.print(report);
    if (output != null) {
      Files.writeString(output, report);
    }
    return 0;
  }

  private Map<Phase, LoadPhase.Result> runTarget(String target) throws Exception {
    Path dir = Files.createTempDirectory("kv-load-" + target);
    try {
      if (target.equals("etcd")) {
        try (EtcdProcess etcd = EtcdProcess.start()) {
          log.info("etcd at {}", etcd.endpoint());
          return runPhases(target, etcd.endpoint(), childCpu());
        }
      }
      try (DkvProcess dkv = DkvProcess.start(dir.resolve("data"), 0, dkvJvmFlags)) {
        log.info("dkv-server at {}, pid {}", dkv.endpoint(), dkv.pid());
        return runPhases(target, dkv.endpoint(), cpu(ProcessHandle.of(dkv.pid()).orElseThrow()));
      }
    } finally {
      deleteTree(dir);
    }
  }

  /** The server's CPU time: etcd is the only child process while it runs (EtcdProcess hides its pid). */
  private static LongSupplier childCpu() {
    List<ProcessHandle> children = ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList();
    if (children.size() != 1) {
      throw new IllegalStateException("expected etcd as the only child process: " + children);
    }
    return cpu(children.get(0));
  }

  private static LongSupplier cpu(ProcessHandle process) {
    return () -> process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  private Map<Phase, LoadPhase.Result> runPhases(String target, String endpoint, LongSupplier serverCpu)
      throws InterruptedException {
    ByteSequence[] keySpace = new ByteSequence[keys];
    for (int i = 0; i < keys; i++) {
      keySpace[i] = ByteSequence.from(String.format("bench/%06d", i), StandardCharsets.UTF_8);
    }
    byte[] bytes = new byte[valueBytes];
    new Random(42).nextBytes(bytes);
    ByteSequence value = ByteSequence.from(bytes);
    Duration warmup = Duration.ofSeconds(warmupSeconds);
    Duration duration = Duration.ofSeconds(durationSeconds);

    Map<Phase, LoadPhase.Result> results = new LinkedHashMap<>();
    try (Client client = Client.builder().endpoints(endpoint).build()) {
      KV kv = client.getKVClient();
      AtomicLong puts = new AtomicLong(); // shared by the put phases: they walk the key space in turn
      LoadPhase.Operation put = n -> kv.put(keySpace[(int) (n % keys)], value);
      if (initialWarmupSeconds > 0) {
        new LoadPhase(Phase.PUT_128.inFlight, put, puts, serverCpu)
            .run(Duration.ZERO, Duration.ofSeconds(initialWarmupSeconds));
      }
      for (Phase phase : List.of(Phase.PUT_1, Phase.PUT_16, Phase.PUT_128)) {
        results.put(phase, run(target, phase, new LoadPhase(phase.inFlight, put, puts, serverCpu), warmup, duration));
      }
      long written = Math.min(puts.get(), keys); // keys [0, written) exist
      LoadPhase.Operation get = n -> kv.get(keySpace[(int) (n % written)]).thenApply(r -> {
        if (r.getCount() != 1) {
          throw new IllegalStateException("a written key is missing: " + keySpace[(int) (n % written)]);
        }
        return r;
      });
      results.put(Phase.GET_16, run(target, Phase.GET_16,
          new LoadPhase(Phase.GET_16.inFlight, get, new AtomicLong(), serverCpu), warmup, duration));
    }
    return results;
  }

  private static LoadPhase.Result run(String target, Phase phase, LoadPhase load, Duration warmup,
      Duration duration) throws InterruptedException {
    LoadPhase.Result r = load.run(warmup, duration);
    log.info("{} {}: {} ops/s, p50 {} ms, p99 {} ms, CPU µs/op server {} client {}, {} errors", target,
        phase.label, Math.round(r.opsPerSecond()), r.p50Millis(), r.p99Millis(),
        Math.round(r.serverCpuMicrosPerOp()), Math.round(r.clientCpuMicrosPerOp()), r.errors());
    if (r.firstError() != null) {
      log.warn("{} {}: first error", target, phase.label, r.firstError());
    }
    return r;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new KvLoad()).execute(args));
  }
}
