package io.dkv.benchmarks;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.DkvProcess;
import io.dkv.testing.EtcdCluster;
import io.dkv.testing.FaultyCluster;
import io.dkv.testing.EtcdProcess;
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
import java.util.Set;
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
 * The load harness: starts a real etcd and a dkv-server, each in a process of its own on this machine, and
 * runs the same jetcd workload against each, phase by phase, one server at a time: durable puts at 1, 16 and
 * 128 requests in flight, then linearizable gets at 16 in flight, over a bounded key space. Prints a Markdown report with
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

  @Option(names = "--members", description = "Members of each server's cluster: 1, or 3 (or 5) for a replicated "
      + "cluster of each on this machine, the client connected to every member (default: ${DEFAULT-VALUE}).")
  int members = 1;

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
    if (members != 1 && members != 3 && members != 5) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--members is 1, 3 or 5, not " + members);
    }
    if (Set.copyOf(targets).size() != targets.size()) {
      throw new CommandLine.ParameterException(new CommandLine(this), "a target is named twice: " + targets);
    }
    if (EtcdProcess.binary() == null && targets.contains("etcd")) {
      throw new IllegalStateException("etcd is not installed (set ETCD_BIN, or put etcd on the PATH)");
    }
    Map<String, Map<Phase, LoadPhase.Result>> results = new LinkedHashMap<>();
    Path dir = Files.createTempDirectory("kv-load");
    Closer open = new Closer();
    try {
      List<Target> started = new ArrayList<>();
      for (String name : targets) {
        started.add(start(name, dir, open));
        results.put(name, new LinkedHashMap<>());
      }
      for (Target t : started) {
        if (initialWarmupSeconds > 0) {
          t.load(Phase.PUT_128).run(Duration.ZERO, Duration.ofSeconds(initialWarmupSeconds));
        }
      }
      // phase by phase, each server in turn: both see the same warm client and nearly the same machine load
      for (Phase phase : Phase.values()) {
        for (Target t : started) {
          results.get(t.name).put(phase, run(t.name, phase, t.load(phase), Duration.ofSeconds(warmupSeconds),
              Duration.ofSeconds(durationSeconds)));
        }
      }
    } finally {
      open.close();
      deleteTree(dir);
    }
    String report = Report.render(results, this);
    System.out.print(report);
    if (output != null) {
      Files.writeString(output, report);
    }
    return 0;
  }

  /** Starts a server (or cluster) and a jetcd client for it; both are added to {@code open}. */
  private Target start(String name, Path dir, Closer open) throws IOException {
    List<String> endpoints;
    List<ProcessHandle> processes = new ArrayList<>();
    if (members > 1) {
      FaultyCluster cluster = name.equals("etcd") ? EtcdCluster.start(members)
          : DkvCluster.start(members, dkvJvmFlags);
      open.add(cluster);
      endpoints = cluster.endpoints();
      for (int i = 0; i < members; i++) {
        processes.add(ProcessHandle.of(cluster.pid(i)).orElseThrow());
      }
    } else if (name.equals("etcd")) {
      LocalEtcd etcd = LocalEtcd.start(open);
      endpoints = List.of(etcd.etcd().endpoint());
      processes.add(etcd.process());
    } else {
      DkvProcess dkv = DkvProcess.start(dir.resolve("dkv-data"), 0, dkvJvmFlags);
      open.add(dkv);
      endpoints = List.of(dkv.endpoint());
      processes.add(ProcessHandle.of(dkv.pid()).orElseThrow());
    }
    log.info("{} at {}, pids {}", name, endpoints, processes.stream().map(ProcessHandle::pid).toList());
    Client client = Client.builder().endpoints(endpoints.toArray(String[]::new)).build();
    open.add(client);
    return new Target(name, client.getKVClient(), processes, keySpace(), value());
  }

  private ByteSequence[] keySpace() {
    ByteSequence[] keySpace = new ByteSequence[keys];
    for (int i = 0; i < keys; i++) {
      keySpace[i] = ByteSequence.from(String.format("bench/%06d", i), StandardCharsets.UTF_8);
    }
    return keySpace;
  }

  private ByteSequence value() {
    byte[] bytes = new byte[valueBytes];
    new Random(42).nextBytes(bytes);
    return ByteSequence.from(bytes);
  }

  /** One server under load, its client, and how far its puts have got. */
  private static final class Target {
    final String name;
    final KV kv;
    final LongSupplier cpu;
    final ByteSequence[] keySpace;
    final ByteSequence value;
    final AtomicLong puts = new AtomicLong(); // shared by the put phases: they walk the key space in turn

    Target(String name, KV kv, List<ProcessHandle> processes, ByteSequence[] keySpace, ByteSequence value) {
      this.name = name;
      this.kv = kv;
      this.cpu = () -> processes.stream()
          .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
      this.keySpace = keySpace;
      this.value = value;
    }

    /** The load of a phase; a get phase reads the keys the puts before it wrote. */
    LoadPhase load(Phase phase) {
      if (phase != Phase.GET_16) {
        int keys = keySpace.length;
        return new LoadPhase(phase.inFlight, n -> kv.put(keySpace[(int) (n % keys)], value), puts, cpu);
      }
      long written = Math.min(puts.get(), keySpace.length); // keys [0, written) exist
      if (written == 0) {
        throw new IllegalStateException("no key was written before the get phase");
      }
      return new LoadPhase(phase.inFlight, n -> {
        ByteSequence key = keySpace[(int) (n % written)];
        return kv.get(key).thenApply(r -> {
          if (r.getCount() != 1) {
            throw new IllegalStateException("a written key is missing: " + key);
          }
          return r;
        });
      }, new AtomicLong(), cpu);
    }
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
