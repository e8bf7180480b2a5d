package io.dkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.FaultyCluster;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dkv-client with every member of a 3-member cluster as endpoints, while a member dies (kill -9 of the Raft
 * leader: a server-side leader change too) or stops answering with its connections open (SIGSTOP of the member
 * serving the watch): writes go on through the other members, the watch resumes from its last revision on another
 * member with every revision once, and a lease, a held lock and its fencing survive. The cluster is behind
 * {@link FaultyCluster}: {@code EtcdClusterFailoverTest} runs them on etcd, {@code DkvClusterFailoverTest} on dkv-server.
 */
@org.junit.jupiter.api.TestInstance(org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS)
abstract class ClusterFailoverContract {

  private static final Logger log = LoggerFactory.getLogger(ClusterFailoverContract.class);
  /** Longer than a Raft election under load (a 5 s lease was lost on a loaded dkv-server cluster: no answer for 5 s). */
  private static final Duration TTL = Duration.ofSeconds(10);
  /** gRPC keep-alive (10 s, its minimum) + its timeout (2 s): when a call stuck on a paused member fails. */
  private static final Duration STUCK_CALL_BOUND = Duration.ofSeconds(12);

  private FaultyCluster cluster;

  /** Starts the cluster the tests of this class share (3 members). */
  abstract FaultyCluster startCluster() throws java.io.IOException;

  /** Why a member without a leader does not cancel require-leader watches, if it does not; empty if it does. */
  java.util.Optional<String> noRequireLeader() {
    return java.util.Optional.empty();
  }
  private final List<Runnable> repairs = new CopyOnWriteArrayList<>();

  @BeforeAll
  void start() throws Exception {
    cluster = startCluster();
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void repair() {
    repairs.forEach(Runnable::run);
    repairs.clear();
    cluster.awaitHealthy(Duration.ofSeconds(30));
  }

  private DkvClient client() {
    return DkvClient.builder().endpoints(cluster.endpoints().toArray(String[]::new))
        .requestTimeout(Duration.ofSeconds(20)).build();
  }

  @Test
  void killOfTheLeaderLosesNoEventAndKeepsLeaseAndLock() throws Exception {
    int leader = cluster.leader();
    try (DkvClient client = client()) {
      Lease lease = client.leases().grant(TTL);
      client.jetcd().getKVClient().put(Keys.bytes("kill-leased"), Keys.bytes("x"),
          PutOption.builder().withLeaseId(lease.id()).build()).get(10, TimeUnit.SECONDS);
      LockHandle lock = client.lock("kill-lock", TTL).acquire();
      Run run = new Run(client, "kill/");
      run.await(30);
      long t0 = System.nanoTime();
      cluster.kill(leader);
      repairs.add(() -> restart(leader));
      long firstAfter = run.awaitFirstWriteStartedAfter(t0);
      long written = System.nanoTime();
      await().atMost(Duration.ofSeconds(15)).until(() -> run.delivered(firstAfter));
      long delivered = System.nanoTime();
      log.info("kill -9 of the leader: a write started after it succeeded {} ms later (the member and the Raft"
          + " leader gone), the watch delivered it {} ms after the kill", ms(written - t0), ms(delivered - t0));
      run.await(30);
      run.finish();
      log.info("kill: slowest read {} ms, slowest write {} ms", run.slowestRead.get(), run.slowest.get());

      assertTrue(lease.isAlive(), "the lease outlived the leader");
      assertTrue(client.get("kill-leased").isPresent(), "the leased key is still there");
      assertTrue(lock.isHeld());
      assertTrue(lock.put("kill-fenced", "after the kill").applied(), "a write fenced by the held lock applies");
      lock.release();
    }
  }

  @Test
  void pauseOfTheMemberServingTheWatchMovesEverythingElsewhere() throws Exception {
    try (DkvClient client = client()) {
      Lease lease = client.leases().grant(TTL);
      Run run = new Run(client, "pause/");
      run.await(30);
      long[] serving = {run.sub.servingMember()};
      // the member serving the watch, seen twice 300 ms apart (a watch that just moved would mislead the test)
      await().atMost(Duration.ofSeconds(15)).pollDelay(Duration.ofMillis(300)).until(() -> {
        long now = run.sub.servingMember();
        boolean stable = now != 0 && now == serving[0];
        serving[0] = now;
        return stable;
      });
      long member = serving[0];
      int paused = indexOf(client, member);
      long t0 = System.nanoTime();
      cluster.pause(paused);
      repairs.add(() -> cluster.resume(paused));
      long firstAfter = run.awaitFirstWriteStartedAfter(t0);
      long written = System.nanoTime();
      await().atMost(Duration.ofSeconds(20)).until(() -> run.delivered(firstAfter));
      long delivered = System.nanoTime();
      log.info("SIGSTOP of the member serving the watch: a write started after it succeeded {} ms later, the watch"
          + " resumed on another member and delivered it {} ms after the pause", ms(written - t0), ms(delivered - t0));
      // the write may reach the watch before its stream has left the paused member (its last answer names it)
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> run.sub.servingMember() != member);
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        throw new AssertionError("the watch did not move from member " + Long.toHexString(member) + " (index "
            + paused + " of " + cluster.endpoints() + ") to another member", e);
      }
      // a whole TTL with a member paused: keep-alives that went to it were sent again elsewhere
      await().atMost(Duration.ofSeconds(20)).until(() -> System.nanoTime() - t0 > TTL.toNanos() + 1_000_000_000L
          && run.acknowledged.size() > 60);
      assertTrue(lease.isAlive(), "the lease lived through the pause");
      await().atMost(Duration.ofSeconds(20)).until(() -> System.nanoTime() - t0 > STUCK_CALL_BOUND.plusSeconds(1).toNanos());
      cluster.resume(paused);
      run.finish();
      log.info("pause: slowest read {} ms (bound: {} s, then another member), slowest write {} ms (bound: gRPC"
          + " keep-alive, {} s)", run.slowestRead.get(), CallPolicy.READ_ATTEMPT.toSeconds(), run.slowest.get(),
          STUCK_CALL_BOUND.toSeconds());
      // a bound that tells "retried on another member" (a read attempt, then the next one's time) from "waited for
      // gRPC's keep-alive to give up on the paused member" (12 s), with room for a loaded machine
      assertTrue(run.slowestRead.get() < STUCK_CALL_BOUND.toMillis(),
          "a read stuck on the paused member was sent to another one: " + run.slowestRead.get() + " ms");
      assertTrue(run.slowest.get() < STUCK_CALL_BOUND.toMillis() + 3_000,
          "a write stuck on the paused member failed within the keep-alive bound: " + run.slowest.get() + " ms");
      lease.revoke();
    }
  }

  @Test
  void aWatchOnAMemberThatLostItsLeaderEnds() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(noRequireLeader().isEmpty(), () -> noRequireLeader().orElseThrow());
    List<String> endpoints = cluster.endpoints();
    try (DkvClient client = DkvClient.connect(endpoints.get(0))) {
      ListWatch<String> source = ListWatch.prefix(client, "leaderless/", Codec.string()).build();
      CopyOnWriteArrayList<Throwable> ended = new CopyOnWriteArrayList<>();
      AtomicBoolean created = new AtomicBoolean();
      ListWatch.Watch w = source.watch(client.put("leaderless/a", "1"), new ListWatch.Sink<>() {
        @Override
        public void changes(List<ListWatch.Change<String>> changes, long serverRevision) {
        }

        @Override
        public void created(long serverRevision) {
          created.set(true);
        }

        @Override
        public void historyGone(long compactRevision) {
          ended.add(new AssertionError("compacted"));
        }

        @Override
        public void closed(Throwable cause) {
          ended.add(cause);
        }
      });
      await().atMost(Duration.ofSeconds(10)).untilTrue(created);
      long t0 = System.nanoTime();
      cluster.kill(1);
      cluster.kill(2);
      repairs.add(() -> restart(1));
      repairs.add(() -> restart(2));
      await().atMost(Duration.ofSeconds(15)).until(() -> !ended.isEmpty());
      log.info("a watch on the member left without a leader ended after {} ms: {}", ms(System.nanoTime() - t0),
          DkvException.describe(ended.get(0)));
      assertTrue(DkvException.describe(ended.get(0)).contains("no leader"),
          "the member cancelled the require-leader watch: " + DkvException.describe(ended.get(0)));
      w.close();
    }
  }

  /**
   * Writes (a put every 20 ms, each on its own: a call stuck on a lost member does not hold the next) and reads
   * (likewise) under a prefix, and a watch of it with its snapshot, checked together at the end.
   */
  private static final class Run {
    final DkvClient client;
    final String prefix;
    final PrimitivesContract.Recorder<String> rec = new PrimitivesContract.Recorder<>();
    final Watcher<String> sub;
    /** Acknowledged writes: revision to value; and when each write was started. */
    final Map<Long, String> acknowledged = new ConcurrentHashMap<>();
    final Map<Long, Long> startedAt = new ConcurrentHashMap<>();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicLong slowest = new AtomicLong();
    final AtomicLong slowestRead = new AtomicLong();
    final AtomicInteger inFlight = new AtomicInteger();
    final ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();

    Run(DkvClient client, String prefix) {
      this.client = client;
      this.prefix = prefix;
      client.put(prefix + "start", "0");
      this.sub = (Watcher<String>) client.watchPrefix(prefix, Codec.string(),
          WatchOptions.builder().initialSnapshot(true).backoff(Duration.ofMillis(50), Duration.ofMillis(500))
              .build(), rec);
      AtomicInteger seq = new AtomicInteger();
      load.scheduleAtFixedRate(() -> write(seq.getAndIncrement()), 0, 20, TimeUnit.MILLISECONDS);
    }

    private void write(int i) {
      String value = "v" + i;
      long start = System.nanoTime();
      inFlight.incrementAndGet();
      client.putAsync(prefix + (i % 10), value, Codec.string()).whenComplete((rev, e) -> {
        long took = ms(System.nanoTime() - start);
        slowest.accumulateAndGet(took, Math::max);
        if (e == null) {
          acknowledged.put(rev, value);
          startedAt.put(rev, start);
        } else {
          failed.incrementAndGet(); // may or may not be applied; the watch tells
          log.info("write failed after {} ms: {}", took, DkvException.describe(e));
        }
        inFlight.decrementAndGet();
      });
      client.getAsync(prefix + (i % 10), Codec.string()).whenComplete((v, e) -> {
        long took = ms(System.nanoTime() - start);
        slowestRead.accumulateAndGet(took, Math::max);
        if (e != null) {
          log.info("read failed after {} ms: {}", took, DkvException.describe(e));
        }
      });
    }

    void await(int more) {
      int target = acknowledged.size() + more;
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= target);
    }

    /** Waits for an acknowledged write started after {@code t0}; returns its revision. */
    long awaitFirstWriteStartedAfter(long t0) {
      long[] found = {0};
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(25)).until(() -> {
        found[0] = startedAt.entrySet().stream().filter(e -> e.getValue() - t0 > 0).mapToLong(Map.Entry::getKey)
            .min().orElse(0);
        return found[0] > 0;
      });
      return found[0];
    }

    boolean delivered(long revision) {
      return sub.revision() >= revision;
    }

    /** Stops the writer and checks the watch: one event per revision after its snapshot, each write as written. */
    void finish() throws InterruptedException {
      load.shutdown();
      assertTrue(load.awaitTermination(10, TimeUnit.SECONDS));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> inFlight.get() == 0);
      long last = acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> sub.revision() >= last);
      sub.close();
      List<Long> revisions = rec.events.stream().map(WatchEvent::revision).toList();
      long end = revisions.get(revisions.size() - 1);
      assertEquals(LongStream.rangeClosed(rec.snapshotRevision + 1, end).boxed().toList(), revisions,
          "one event per revision, in order, none missing, none twice (" + failed.get() + " writes failed)");
      for (WatchEvent<String> e : rec.events) {
        String written = acknowledged.get(e.revision());
        if (written != null) {
          assertEquals(written, e.value(), "the event of revision " + e.revision());
        }
      }
      assertTrue(acknowledged.size() > 60);
    }
  }

  /**
   * Pre-vote (etcd 3.5's default and dkv-server's; the etcd control runs with {@code --pre-vote=true}): a
   * follower cut off from the other members notices it has no leader and asks for votes without raising its
   * term, and when it is back it follows the same leader at the same term instead of deposing it.
   */
  @Test
  void aFollowerBackFromAPartitionDoesNotDeposeTheLeader() throws Exception {
    int leader = cluster.leader();
    int cut = (leader + 1) % 3;
    try (DkvClient onLeader = DkvClient.builder().endpoints(cluster.endpoint(leader)).build();
        DkvClient onCut = DkvClient.builder().endpoints(cluster.endpoint(cut)).build()) {
      var before = status(onLeader, cluster.endpoint(leader));
      long term = before.getHeader().getRaftTerm();
      long leaderId = before.getLeader();
      cluster.partition(cut);
      repairs.add(cluster::heal);
      await().atMost(Duration.ofSeconds(20)).until(() -> status(onCut, cluster.endpoint(cut)).getLeader() == 0);
      // it stands, again and again, for several election timeouts: its term does not move
      await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() ->
          status(onCut, cluster.endpoint(cut)).getHeader().getRaftTerm() == term);
      cluster.heal();
      repairs.clear();
      await().atMost(Duration.ofSeconds(20)).until(() -> status(onCut, cluster.endpoint(cut)).getLeader() == leaderId);
      var after = status(onLeader, cluster.endpoint(leader));
      assertEquals(leaderId, after.getLeader(), "the same leader");
      assertEquals(term, after.getHeader().getRaftTerm(), "at the same term");
      assertEquals(term, status(onCut, cluster.endpoint(cut)).getHeader().getRaftTerm(), "the follower's term");
    }
  }

  private static io.etcd.jetcd.maintenance.StatusResponse status(DkvClient c, String endpoint) throws Exception {
    return c.jetcd().getMaintenanceClient().statusMember(endpoint).get(5, TimeUnit.SECONDS);
  }

  /** The index of the member with id {@code memberId}, asked of each member (its Status header). */
  private int indexOf(DkvClient client, long memberId) throws Exception {
    List<String> endpoints = cluster.endpoints();
    for (int i = 0; i < endpoints.size(); i++) {
      long id = client.jetcd().getMaintenanceClient().statusMember(endpoints.get(i)).get(10, TimeUnit.SECONDS)
          .getHeader().getMemberId();
      if (id == memberId) {
        return i;
      }
    }
    throw new AssertionError("no member has id " + Long.toHexString(memberId));
  }

  private void restart(int i) {
    try {
      cluster.restart(i);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
