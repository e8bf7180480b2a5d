package io.dkv.examples.leaderelection;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Subscription;
import io.dkv.client.Versioned;
import io.dkv.client.WatchOptions;
import io.dkv.examples.Target;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Three worker processes (separate JVMs) campaign in one election; the leader does the scheduled work. After
 * the leader's first ticks the example kills its process with SIGKILL, and shows another worker take over once
 * the dead leader's lease expired. Everything the workers print appears here, prefixed.
 *
 * <pre>
 * java -cp "examples/target/classes:$(cat examples/target/classpath.txt)" io.dkv.examples.Examples leader-election
 * </pre>
 */
@Command(name = "leader-election", mixinStandardHelpOptions = true,
    description = "Three worker processes, one leader doing scheduled work; kill it and watch another take over.")
public final class LeaderElectionExample implements Callable<Integer> {

  @Option(names = "--endpoint", description = "etcd-v3 endpoint (default: an embedded dkv-server)")
  String endpoint;

  @Option(names = "--workers", description = "worker processes (default: ${DEFAULT-VALUE})")
  int workers = 3;

  @Option(names = "--ttl-s", description = "the candidates' lease TTL (default: ${DEFAULT-VALUE})")
  int ttlSeconds = 2;

  @Option(names = "--tick-ms", description = "period of the leader's scheduled work (default: ${DEFAULT-VALUE})")
  long tickMillis = 200;

  @Option(names = "--ticks-before-kill", description = "ticks of the first leader before it is killed (default: ${DEFAULT-VALUE})")
  int ticksBeforeKill = 5;

  @Option(names = "--ticks-after", description = "ticks of the new leader to wait for (default: ${DEFAULT-VALUE})")
  int ticksAfter = 3;

  @Option(names = "--timeout-s", description = "give up after this long (default: ${DEFAULT-VALUE})")
  int timeoutSeconds = 120;

  /**
   * What happened.
   *
   * @param firstLeader    the worker that led first (and was killed)
   * @param newLeader      the worker that took over
   * @param killedIsDead   whether the killed process is gone
   * @param takeover       from the kill to the new leader's first tick
   * @param ticks          every tick written to the work key, in order ("worker-1 tick 3")
   */
  public record Report(String firstLeader, String newLeader, boolean killedIsDead, Duration takeover,
      List<String> ticks) {
  }

  @Override
  public Integer call() throws Exception {
    Report r = run(System.out);
    return r.newLeader().equals(r.firstLeader()) ? 1 : 0;
  }

  /** Starts the workers, kills the leader, waits for the takeover, stops the rest; prints as it goes. */
  public Report run(PrintStream out) throws InterruptedException {
    if (workers < 2 || ttlSeconds < 1 || tickMillis < 1 || ticksBeforeKill < 1 || ticksAfter < 1) {
      throw new IllegalArgumentException("needs at least 2 --workers, and positive --ttl-s, --tick-ms and ticks");
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    try (Target target = Target.open(endpoint); DkvClient client = target.connect()) {
      String base = "examples/leader-election/" + UUID.randomUUID().toString().substring(0, 8) + "/";
      String election = base + "election";
      String workKey = base + "work";
      out.printf("leader-election: %d worker processes, lease TTL %d s, against %s%n", workers, ttlSeconds, target);
      List<String> ticks = new CopyOnWriteArrayList<>();
      Map<String, Process> processes = new LinkedHashMap<>();
      try (Subscription work = client.watchKey(workKey, Codec.string(), WatchOptions.defaults(),
               e -> ticks.add(e.value()));
           Subscription leaders = client.election(election, Duration.ofSeconds(ttlSeconds)).observe(
               leader -> out.println("observer: leader is " + leader.map(Versioned::value).orElse("(none)")))) {
        for (int i = 1; i <= workers; i++) {
          String id = "worker-" + i;
          processes.put(id, start(out, target.endpoint(), id, election, workKey));
        }
        awaitOrFail(() -> ticks.size() >= ticksBeforeKill, deadline, "the first leader's ticks");
        String first = writer(ticks.get(0));
        Process leader = processes.get(first);
        out.printf("killing the leader %s (pid %d) with SIGKILL%n", first, leader.pid());
        long killedAt = System.nanoTime();
        leader.destroyForcibly();
        leader.waitFor();
        int seen = ticks.size();
        awaitOrFail(() -> ticks.subList(seen, ticks.size()).stream().anyMatch(t -> !writer(t).equals(first)),
            deadline, "a new leader");
        Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
        String next = ticks.subList(seen, ticks.size()).stream().map(LeaderElectionExample::writer)
            .filter(w -> !w.equals(first)).findFirst().orElseThrow();
        awaitOrFail(() -> ticks.stream().filter(t -> writer(t).equals(next)).count() >= ticksAfter, deadline,
            next + "'s ticks");
        out.printf("%s took over %d ms after the kill (the dead leader's lease had to expire: TTL %d s)%n", next,
            takeover.toMillis(), ttlSeconds);
        return new Report(first, next, !leader.isAlive(), takeover, List.copyOf(ticks));
      } finally {
        stop(processes.values());
      }
    }
  }

  private Process start(PrintStream out, String endpoint, String id, String election, String workKey) {
    List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx96m", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), ElectionWorker.class.getName(),
        "--endpoint", endpoint, "--id", id, "--election", election, "--work-key", workKey,
        "--ttl-s", Integer.toString(ttlSeconds), "--tick-ms", Long.toString(tickMillis)));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      Thread pipe = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            out.println("  [" + id + " pid " + p.pid() + "] " + line);
          }
        } catch (IOException e) {
          // the process ended
        }
      }, "output-of-" + id);
      pipe.setDaemon(true);
      pipe.start();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a worker process: " + cmd, e);
    }
  }

  private static void stop(Iterable<Process> processes) throws InterruptedException {
    for (Process p : processes) {
      p.destroy(); // SIGTERM: the worker resigns
    }
    for (Process p : processes) {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
      }
    }
  }

  private static String writer(String tick) {
    return tick.substring(0, tick.indexOf(' '));
  }

  private static String javaBinary() {
    Optional<String> command = ProcessHandle.current().info().command();
    return command.orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  private static void awaitOrFail(BooleanSupplier condition, long deadline, String what) throws InterruptedException {
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("gave up waiting for " + what);
      }
      Thread.sleep(20); // a program polling its own in-memory state; not a test
    }
  }
}
