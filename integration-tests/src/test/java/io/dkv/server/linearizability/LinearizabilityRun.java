package io.dkv.server.linearizability;

import com.google.protobuf.ByteString;
import io.dkv.server.linearizability.LinearizabilityChecker.Outcome;
import io.dkv.server.linearizability.LinearizabilityChecker.Verdict;
import io.dkv.server.testing.Channels;
import io.dkv.server.testing.WatchHistoryChecker;
import io.dkv.server.testing.WatchHistoryChecker.Spec;
import io.dkv.testing.FaultyCluster;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One linearizability run against a cluster: watchers on every member from revision 1, the workload, the faults
 * (on the calling thread), then the repairs, a linearizable read of every key from every member, and the checks:
 * the history per key by {@link LinearizabilityChecker}, acknowledged writes against the write history, and every
 * member's watch against etcd's six guarantees ({@link WatchHistoryChecker}).
 */
final class LinearizabilityRun {

  /** The faults to run while the workload runs; they must leave every member running and the network whole. */
  interface Faults {
    void run() throws Exception;
  }

  /** What a run found. */
  record Report(int calls, int unknown, int writes, List<Verdict> verdicts, long checkMillis, List<String> lostWrites,
      List<String> unexplained, List<String> watchProblems, long watchEvents) {

    List<Verdict> violations() {
      return verdicts.stream().filter(v -> v.outcome() != Outcome.LINEARIZABLE).toList();
    }

    String summary() {
      return calls + " calls (" + unknown + " without response), " + writes + " revisions written, "
          + watchEvents + " watch events; checked in " + checkMillis + " ms: " + verdicts.stream()
          .map(v -> v.key() + " " + v.outcome() + " (" + v.ops() + " ops, " + v.steps() + " steps)").toList()
          + "; lost writes " + lostWrites.size() + ", unexplained " + unexplained.size() + ", watch problems "
          + watchProblems.size();
    }

    String problems() {
      StringBuilder b = new StringBuilder();
      violations().forEach(v -> b.append(v).append('\n'));
      lostWrites.stream().limit(20).forEach(s -> b.append("lost: ").append(s).append('\n'));
      unexplained.stream().limit(20).forEach(s -> b.append("unexplained: ").append(s).append('\n'));
      watchProblems.stream().limit(20).forEach(s -> b.append("watch: ").append(s).append('\n'));
      return b.toString();
    }
  }

  private final FaultyCluster cluster;
  private final int clients;
  private final int keys;
  private final Duration timeout;
  private Integer staleReadsFrom;
  private BooleanSupplier staleReadsWhile;

  LinearizabilityRun(FaultyCluster cluster, int clients, int keys, Duration timeout) {
    this.cluster = cluster;
    this.clients = clients;
    this.keys = keys;
    this.timeout = timeout;
  }

  /**
   * Adds a client recording serializable gets from {@code member} as linearizable ones while {@code active} is set
   * (see {@link Workload#addStaleReader}).
   */
  LinearizabilityRun withStaleReadsFrom(int member, BooleanSupplier active) {
    this.staleReadsFrom = member;
    this.staleReadsWhile = active;
    return this;
  }

  Report run(Faults faults) throws Exception {
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
    List<MemberWatcher> watchers = new ArrayList<>();
    try (Workload workload = new Workload(cluster, clients, keys, timeout, 42)) {
      for (int m = 0; m < cluster.size(); m++) {
        watchers.add(new MemberWatcher("watcher of m" + m, cluster.endpoint(m), 1, scheduler));
      }
      if (staleReadsFrom != null) {
        workload.addStaleReader(staleReadsFrom, staleReadsWhile);
      }
      workload.start();
      try {
        faults.run();
      } finally {
        workload.stop();
        cluster.heal();
      }
      cluster.awaitHealthy(Duration.ofSeconds(60));
      workload.finalReads();
      long end = endMarker();
      List<String> watchProblems = new ArrayList<>();
      for (MemberWatcher w : watchers) {
        awaitRevision(w, end, watchProblems);
      }
      MemberWatcher reference = new MemberWatcher("reference", cluster.endpoint(cluster.leader()), 1, scheduler);
      watchers.add(reference);
      awaitRevision(reference, end, watchProblems);
      WriteHistory history = new WriteHistory(reference.events());
      WatchHistoryChecker watchChecker = history.watchChecker();
      ByteString prefix = ByteString.copyFromUtf8(Workload.PREFIX);
      Spec spec = new Spec(prefix, MemberWatcher.rangeEnd(prefix), false, false, true);
      long events = 0;
      for (MemberWatcher w : watchers.subList(0, cluster.size())) {
        watchProblems.addAll(watchChecker.check(w.name(), spec, w.segments()));
        events += w.events().size();
      }
      List<Op> ops = workload.history();
      List<Op> patched = history.patch(ops);
      long t = System.nanoTime();
      List<Verdict> verdicts = new LinearizabilityChecker(5_000_000).check(patched);
      long checkMillis = (System.nanoTime() - t) / 1_000_000;
      int unknown = (int) ops.stream().filter(op -> op.out() == null).count();
      return new Report(ops.size(), unknown, history.size(), verdicts, checkMillis, history.lostWrites(ops),
          history.unexplained(ops, new HashSet<>(workload.keys())), watchProblems, events);
    } finally {
      watchers.forEach(MemberWatcher::close);
      scheduler.shutdownNow();
    }
  }

  /** Writes a last key under the prefix through the leader; its revision, which every watcher must reach. */
  private long endMarker() {
    long[] rev = new long[1];
    Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> {
          ManagedChannel ch = Channels.open(URI.create(cluster.endpoint(cluster.leader())).getPort());
          try {
            rev[0] = KVGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8(Workload.PREFIX + "~end")).build()).getHeader().getRevision();
            return true;
          } finally {
            Channels.close(ch);
          }
        });
    return rev[0];
  }

  private static void awaitRevision(MemberWatcher w, long rev, List<String> problems) {
    try {
      Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> w.lastRevision() >= rev);
    } catch (ConditionTimeoutException e) {
      problems.add(w.name() + " stopped at revision " + w.lastRevision() + " of " + rev + "; " + w.describe());
    }
  }
}
