package io.dkv.benchmarks;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.EtcdCluster;
import io.dkv.testing.FaultyCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Failover time of a 3-member cluster, etcd's and dkv-server's with the same election settings: the leader is
 * killed (SIGKILL) and a client keeps putting through a surviving member, each attempt bounded by
 * {@code --attempt-ms}; the figure is the time from the leader's exit to the first put acknowledged after it.
 * The killed member is restarted and the cluster healthy again before the next round.
 */
@Command(name = "failover", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Kills the leader of a 3-member etcd and dkv-server cluster and times the first write after.")
public final class Failover implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(Failover.class);

  @Option(names = "--rounds", description = "Leader kills per target (default: ${DEFAULT-VALUE}).")
  int rounds = 5;

  @Option(names = "--election-timeout", description = "Election timeout, ms, of both (default: ${DEFAULT-VALUE}).")
  int electionMs = 1000;

  @Option(names = "--heartbeat-interval", description = "Heartbeat, ms, of both (default: ${DEFAULT-VALUE}).")
  int heartbeatMs = 100;

  @Option(names = "--pre-vote", arity = "1",
      description = "Pre-vote of both: true (etcd 3.5's default and dkv-server's) or false (etcd 3.4's)"
          + " (default: ${DEFAULT-VALUE}).")
  boolean preVote = true;

  @Option(names = "--attempt-ms", description = "Bound of one put attempt, ms (default: ${DEFAULT-VALUE}).")
  int attemptMs = 100;

  @Option(names = "--targets", split = ",", description = "etcd, dkv (default: ${DEFAULT-VALUE}).")
  List<String> targets = List.of("etcd", "dkv");

  @Option(names = "--dkv-jvm-flags", split = " ",
      description = "JVM flags of each dkv-server member (default: ${DEFAULT-VALUE}).")
  List<String> dkvJvmFlags = List.of("-Xmx1g");

  @Option(names = "--output", description = "Also write the report to this file.")
  Path output;

  @Option(names = "--logs", description = "Write the members' logs to <this>-<target>.log at the end.")
  Path logs;

  @Override
  public Integer call() throws Exception {
    Map<String, List<Long>> times = new LinkedHashMap<>();
    for (String target : targets) {
      times.put(target, measure(target));
    }
    String report = render(times);
    System.out.print(report);
    if (output != null) {
      Files.writeString(output, report);
    }
    return 0;
  }

  private List<Long> measure(String target) throws Exception {
    String[] flags = {"--election-timeout", String.valueOf(electionMs),
        "--heartbeat-interval", String.valueOf(heartbeatMs), "--pre-vote=" + preVote};
    List<Long> millis = new ArrayList<>();
    try (FaultyCluster cluster = switch (target) {
      case "etcd" -> EtcdCluster.start(3, flags);
      case "dkv" -> DkvCluster.start(3, dkvJvmFlags, flags);
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown target " + target);
    }) {
      List<Client> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          clients.add(Client.builder().endpoints(cluster.endpoint(i)).build());
        }
        for (int round = 0; round < rounds; round++) {
          cluster.awaitHealthy(Duration.ofSeconds(60));
          int leader = cluster.leader();
          Client survivor = clients.get((leader + 1) % 3);
          put(survivor, "warm-" + round, Duration.ofSeconds(10)); // the survivor answers before the kill
          awaitCaughtUp(clients, "warm-" + round); // and the member restarted in the last round has caught up
          cluster.kill(leader); // returns once the process has exited
          long killed = System.nanoTime();
          for (int attempt = 0; ; attempt++) {
            if (put(survivor, "after-" + round + "-" + attempt, Duration.ofMillis(attemptMs))) {
              break;
            }
          }
          long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
          log.info("{} round {}: leader m{} killed, a write succeeded again after {} ms", target, round, leader, took);
          millis.add(took);
          cluster.restart(leader);
        }
      } finally {
        clients.forEach(Client::close);
        if (logs != null) {
          Files.writeString(Path.of(logs + "-" + target + ".log"), cluster.logs());
        }
      }
    }
    return millis;
  }

  /**
   * Waits until every member serves {@code key} (a serializable read, from its own state): the kill then meets a
   * cluster whose members all hold the leader's log, not one still catching up after its restart.
   */
  private static void awaitCaughtUp(List<Client> clients, String key) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (Client c : clients) {
      while (true) {
        try {
          if (c.getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8),
              io.etcd.jetcd.options.GetOption.builder().withSerializable(true).build())
              .get(1, TimeUnit.SECONDS).getCount() > 0) {
            break;
          }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
          // not answering yet
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("a member did not catch up within 30 s");
        }
        Thread.sleep(20);
      }
    }
  }

  /** One put; whether it was acknowledged within {@code bound}. */
  private static boolean put(Client c, String key, Duration bound) {
    try {
      c.getKVClient().put(ByteSequence.from(key, StandardCharsets.UTF_8), ByteSequence.from("v", StandardCharsets.UTF_8))
          .get(bound.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (Exception e) {
      return false; // timed out, no leader, unavailable: try again
    }
  }

  private String render(Map<String, List<Long>> times) {
    StringBuilder out = new StringBuilder(String.format("3 members each, election timeout %d ms, heartbeat %d ms, "
        + "pre-vote %s; kill -9 of the leader, then puts through a surviving member, each bounded by %d ms%n%n",
        electionMs, heartbeatMs, preVote ? "on" : "off", attemptMs));
    out.append("| target | ms until a write succeeds, per round | median | max |\n| --- | --- | ---: | ---: |\n");
    times.forEach((t, ms) -> out.append(String.format("| %s | %s | %d | %d |%n", t, ms, median(ms),
        ms.stream().mapToLong(Long::longValue).max().orElse(0))));
    if (times.containsKey("etcd") && times.containsKey("dkv")) {
      long dkv = median(times.get("dkv"));
      long etcd = median(times.get("etcd"));
      out.append(String.format("%n| goal | result | met |%n| --- | ---: | --- |%n"));
      out.append(String.format("| failover median <= etcd's | %.2fx | %s |%n", (double) dkv / etcd,
          dkv <= etcd ? "yes" : "**no**"));
      long worst = times.get("dkv").stream().mapToLong(Long::longValue).max().orElse(0);
      out.append(String.format("| every dkv failover <= 2x the election timeout | %d ms | %s |%n", worst,
          worst <= 2L * electionMs ? "yes" : "**no**"));
    }
    return out.toString();
  }

  private static long median(List<Long> ms) {
    List<Long> sorted = ms.stream().sorted().toList();
    return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Failover()).execute(args));
  }
}
