package io.dkv.server.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.linearizability.LinearizabilityChecker.Outcome;
import io.dkv.server.linearizability.LinearizabilityChecker.Verdict;
import io.dkv.server.linearizability.LinearizabilityRun.Report;
import io.dkv.testing.DkvCluster;
import io.dkv.testing.EtcdCluster;
import io.dkv.testing.FaultyCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Linearizability under faults, in the manner of Jepsen and etcd's robustness tests, against a real 3-member etcd
 * (the control; a DKV cluster fixture implementing {@link FaultyCluster} plugs into the same {@link
 * LinearizabilityRun}): 6 clients on 4 keys (linearizable get, put, cas by txn on value or mod_revision, delete;
 * 1 s deadline) and a watcher per member, while the leader is killed with SIGKILL, then a follower, the leader is
 * stopped with SIGSTOP, partitioned from its peers, and a follower is replaced on an empty data directory. Then:
 * no linearizability violation, no acknowledged write lost, the six watch guarantees on every member. A second run
 * injects stale reads (while a follower is partitioned, a seventh client's gets go to it as serializable reads,
 * which etcd answers from its local state, and are recorded as linearizable ones) and must be caught.
 *
 * <p>In CI the schedule runs once (about 25 s of workload). A long run repeats it for as long as asked:
 * <pre>{@code
 * ./mvnw -B -q -pl integration-tests -am verify -Dtest=LinearizabilityTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dlinearizability.seconds=600 -Dlinearizability.hold=3
 * }</pre>
 */
class LinearizabilityTest {

  private static final long SECONDS = Long.getLong("linearizability.seconds", 0);
  private static final Duration HOLD = Duration.ofMillis((long) (1000 * Double.parseDouble(
      System.getProperty("linearizability.hold", "2"))));

  @Test
  void etcdUnderFaultsIsLinearizableLosesNothingAndKeepsTheWatchGuarantees() throws Exception {
    try (EtcdCluster cluster = EtcdCluster.start(3)) {
      underFaults(cluster, new FaultSchedule(cluster, HOLD), "etcd");
    }
  }

  /** The same on DKV. */
  @Test
  void dkvUnderFaultsIsLinearizableLosesNothingAndKeepsTheWatchGuarantees() throws Exception {
    try (DkvCluster cluster = DkvCluster.start(3)) {
      underFaults(cluster, new FaultSchedule(cluster, HOLD), "DKV");
    }
  }

  @Test
  void staleReadsFromAPartitionedDkvMemberAreCaught() throws Exception {
    try (DkvCluster cluster = DkvCluster.start(3)) {
      staleReadsAreCaught(cluster);
    }
  }

  private static void underFaults(FaultyCluster cluster, FaultSchedule schedule, String name) throws Exception {
    {
      long started = System.nanoTime();
      Report report = new LinearizabilityRun(cluster, 6, 4, Duration.ofSeconds(1)).run(() -> {
        do {
          schedule.standard();
        } while (System.nanoTime() - started < SECONDS * 1_000_000_000L);
      });
      System.out.printf("linearizability on %s, %.1f s: %s%n  faults: %s%n", name,
          (System.nanoTime() - started) / 1e9, report.summary(), String.join("; ", schedule.log()));
      String problems = report.problems() + "\nfaults:\n" + String.join("\n", schedule.log())
          + (report.watchProblems().isEmpty() ? "" : "\n" + cluster.logs());
      assertTrue(report.violations().isEmpty(), problems);
      assertEquals(List.of(), report.lostWrites(), problems);
      assertEquals(List.of(), report.unexplained(), problems);
      assertEquals(List.of(), report.watchProblems(), problems);
      assertTrue(report.calls() > 500 && report.writes() > 100, report::summary);
    }
  }

  @Test
  void staleReadsFromAPartitionedMemberAreCaught() throws Exception {
    try (EtcdCluster cluster = EtcdCluster.start(3)) {
      staleReadsAreCaught(cluster);
    }
  }

  private static void staleReadsAreCaught(FaultyCluster cluster) throws Exception {
    {
      FaultSchedule schedule = new FaultSchedule(cluster, HOLD);
      int follower = schedule.follower();
      AtomicBoolean partitioned = new AtomicBoolean();
      Report report = new LinearizabilityRun(cluster, 6, 4, Duration.ofSeconds(1))
          .withStaleReadsFrom(follower, partitioned::get)
          .run(() -> schedule.partitionOnly(follower, partitioned));
      List<Verdict> violations = report.violations();
      System.out.printf("stale reads: %s%n%s%n", report.summary(), violations.isEmpty() ? "" : violations.get(0));
      assertFalse(violations.isEmpty(), report::summary);
      violations.forEach(v -> assertEquals(Outcome.VIOLATION, v.outcome(), v::toString));
      assertTrue(violations.get(0).explanation().contains(" get -> "), violations.get(0)::toString);
      assertEquals(List.of(), report.lostWrites(), report::problems);
      assertEquals(List.of(), report.watchProblems(), () -> report.problems() + "\n" + cluster.logs());
    }
  }
}
