package io.dkv.server.linearizability;

import io.dkv.testing.FaultyCluster;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;

/**
 * Faults injected into a {@link FaultyCluster} while the workload runs, each held for a while and then repaired,
 * with a log of what was done when. {@link #standard} is the schedule of the issue: kill -9 of the leader, of a
 * follower, SIGSTOP of the leader, a partition of the leader, a follower replaced on an empty data directory.
 */
final class FaultSchedule {
  private final FaultyCluster cluster;
  private final Duration hold;
  private final long t0 = System.nanoTime();
  private final List<String> log = new ArrayList<>();

  FaultSchedule(FaultyCluster cluster, Duration hold) {
    this.cluster = cluster;
    this.hold = hold;
  }

  List<String> log() {
    return List.copyOf(log);
  }

  /** The faults, one after another, each repaired before the next. */
  void standard() throws IOException {
    steady();
    int leader = cluster.leader();
    note("kill -9 of the leader m" + leader);
    cluster.kill(leader);
    holdOn();
    cluster.restart(leader);
    recovered("m" + leader + " restarted");

    int follower = follower();
    note("kill -9 of the follower m" + follower);
    cluster.kill(follower);
    holdOn();
    cluster.restart(follower);
    recovered("m" + follower + " restarted");

    leader = cluster.leader();
    note("SIGSTOP of the leader m" + leader);
    cluster.pause(leader);
    holdOn();
    cluster.resume(leader);
    recovered("m" + leader + " resumed");

    leader = cluster.leader();
    note("partition of the leader m" + leader + " from both followers");
    cluster.partition(leader);
    holdOn();
    cluster.heal();
    recovered("healed");

    follower = follower();
    note("m" + follower + " replaced by a member on an empty data directory");
    cluster.restartEmpty(follower);
    recovered("m" + follower + " rejoined empty");
    steady();
  }

  /** Member {@code i} cut off from the others for a while (the stale-read run); {@code cut} tells while it is. */
  void partitionOnly(int i, AtomicBoolean cut) {
    steady();
    note("partition of m" + i + " from the others");
    cluster.partition(i);
    cut.set(true);
    holdOn();
    cut.set(false);
    cluster.heal();
    recovered("healed");
    steady();
  }

  int follower() {
    return (cluster.leader() + 1) % cluster.size();
  }

  private void steady() {
    holdOn();
  }

  /** Lets the workload run on for the hold time, the fault in place. */
  private void holdOn() {
    Awaitility.await().pollDelay(hold).atMost(hold.plusSeconds(5)).until(() -> true);
  }

  private void recovered(String what) {
    try {
      cluster.awaitHealthy(Duration.ofSeconds(60));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      String logs = cluster.logs();
      throw new AssertionError("not healthy 60 s after: " + what + "\nfaults:\n" + String.join("\n", log)
          + "\nlast lines of each member's log:\n" + tails(logs), e);
    }
    note(what + ", cluster healthy");
  }

  /** The last 40 lines of each member's part of {@code logs} (members' parts begin with "--- "). */
  private static String tails(String logs) {
    StringBuilder out = new StringBuilder();
    for (String part : logs.split("(?m)^(?=--- )")) {
      java.util.List<String> lines = part.lines().toList();
      if (!lines.isEmpty()) {
        out.append(lines.get(0)).append('\n');
        lines.subList(Math.max(1, lines.size() - 40), lines.size()).forEach(l -> out.append(l).append('\n'));
      }
    }
    return out.toString();
  }

  private void note(String what) {
    log.add(String.format("%+.1fs %s", (System.nanoTime() - t0) / 1e9, what));
  }
}
