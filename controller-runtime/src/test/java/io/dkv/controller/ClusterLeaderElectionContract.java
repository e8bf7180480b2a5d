package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.DkvClient;
import io.dkv.client.FencingToken;
import io.dkv.testing.FaultyCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two managers campaign in one election on a 3-member cluster while members fail. When the leader's lease
 * survives (kill -9 of the Raft leader, SIGSTOP of a member: a majority lives and the manager's client has every
 * member) the leader keeps leading with the same fencing token, and the other never leads. When it does not (the
 * leader's only member is killed) the leadership is handed over: the old leader stops before the new one starts,
 * the new token is larger, and a write fenced by the old token is refused. The cluster is behind
 * {@link FaultyCluster}: {@code EtcdClusterLeaderElectionTest} runs it on etcd, {@code DkvClusterLeaderElectionTest} on dkv-server.
 */
@org.junit.jupiter.api.TestInstance(org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS)
abstract class ClusterLeaderElectionContract {

  private static final Logger log = LoggerFactory.getLogger(ClusterLeaderElectionContract.class);
  private static final Duration LEASE = Duration.ofSeconds(5);
  /**
   * Below the lease by a second (the old leader stops before the lease another could take expires); 3 s left the
   * etcd control about 1.5 s for its own failover and the client's move to another member, and failed once in CI.
   */
  private static final Duration RENEW_DEADLINE = Duration.ofSeconds(4);
  private static final AtomicInteger RUNS = new AtomicInteger();

  private FaultyCluster cluster;

  /** Starts the cluster the tests of this class share (3 members). */
  abstract FaultyCluster startCluster() throws java.io.IOException;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final List<Runnable> repairs = new ArrayList<>();

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
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    toClose.clear();
    repairs.forEach(Runnable::run);
    repairs.clear();
    cluster.awaitHealthy(Duration.ofSeconds(30));
  }

  /** One candidate process: a client on the given endpoints, an elector and a manager. */
  private final class Candidate {
    final DkvClient client;
    final LeaderElector elector;
    final Manager manager;
    final AtomicLong stoppedNanos = new AtomicLong();

    Candidate(String identity, String election, List<String> endpoints) {
      client = DkvClient.builder().endpoints(endpoints.toArray(String[]::new)).build();
      elector = LeaderElector.builder(client, election).identity(identity).leaseDuration(LEASE)
          .renewDeadline(RENEW_DEADLINE).retryPeriod(Duration.ofMillis(500)).build();
      manager = Manager.builder().leaderElector(elector).shutdownTimeout(Duration.ofSeconds(5)).build();
      manager.stopped().whenComplete((v, e) -> stoppedNanos.compareAndSet(0, System.nanoTime()));
      toClose.add(client);
      toClose.add(manager);
    }
  }

  /** Samples both candidates every 10 ms: how often both led at once, and when each was first seen leading. */
  private static final class Watchdog implements AutoCloseable {
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    final AtomicInteger both = new AtomicInteger();
    final AtomicLong bLeadsNanos = new AtomicLong();

    Watchdog(Candidate a, Candidate b) {
      timer.scheduleAtFixedRate(() -> {
        boolean aLeads = a.manager.isLeader();
        boolean bLeads = b.manager.isLeader();
        if (aLeads && bLeads) {
          both.incrementAndGet();
        }
        if (bLeads) {
          bLeadsNanos.compareAndSet(0, System.nanoTime());
        }
      }, 0, 10, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }

  @Test
  void leadershipAndItsTokenSurviveAKillOfTheRaftLeaderAndAPause() throws Exception {
    String election = "leader/cluster-" + RUNS.incrementAndGet();
    Candidate a = new Candidate("a", election, cluster.endpoints());
    a.manager.start();
    await().atMost(Duration.ofSeconds(20)).until(a.manager::isLeader);
    FencingToken token = a.manager.fencingToken().orElseThrow();
    Candidate b = new Candidate("b", election, cluster.endpoints());
    b.manager.start();
    try (Watchdog dog = new Watchdog(a, b)) {
      int raftLeader = cluster.leader();
      cluster.kill(raftLeader);
      repairs.add(() -> restart(raftLeader));
      holdsFor(a, token, LEASE.plusSeconds(2)); // longer than the lease: it was renewed through the others
      restart(raftLeader);
      repairs.clear();

      int paused = cluster.leader(); // the Raft leader again: a pause is a server-side leader change too
      cluster.pause(paused);
      repairs.add(() -> cluster.resume(paused));
      holdsFor(a, token, LEASE.plusSeconds(2));
      cluster.resume(paused);
      repairs.clear();

      assertTrue(token.put(a.client, election + "-fenced", "still a").applied(), "a write fenced by a's token applies");
      assertEquals(0, dog.both.get(), "never two leaders at once");
      assertEquals(0, dog.bLeadsNanos.get(), "b never led");
      assertFalse(a.manager.stopped().isDone(), "a never stopped leading");
    }
  }

  @Test
  void leadershipIsHandedOverWhenTheLeadersOnlyMemberDies() throws Exception {
    String election = "leader/cluster-" + RUNS.incrementAndGet();
    int lonely = (cluster.leader() + 1) % 3; // a follower: its death is no Raft leader change
    Candidate a = new Candidate("a", election, List.of(cluster.endpoints().get(lonely)));
    a.manager.start();
    await().atMost(Duration.ofSeconds(20)).until(a.manager::isLeader);
    FencingToken old = a.manager.fencingToken().orElseThrow();
    Candidate b = new Candidate("b", election, cluster.endpoints());
    b.manager.start();
    try (Watchdog dog = new Watchdog(a, b)) {
      long t0 = System.nanoTime();
      cluster.kill(lonely);
      repairs.add(() -> restart(lonely));
      await().atMost(LEASE.plusSeconds(10)).until(b.manager::isLeader);
      // the watchdog looks every 10 ms: it may not have seen b lead yet
      await().atMost(Duration.ofSeconds(1)).until(() -> dog.bLeadsNanos.get() != 0);
      FencingToken now = b.manager.fencingToken().orElseThrow();
      log.info("leadership handed over: a stopped {} ms after the kill of its member, b led {} ms after it",
          ms(a.stoppedNanos.get() - t0), ms(dog.bLeadsNanos.get() - t0));

      CompletionException lost = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
          () -> a.manager.stopped().join());
      assertInstanceOf(LeadershipLostException.class, lost.getCause());
      assertTrue(a.stoppedNanos.get() != 0 && a.stoppedNanos.get() - dog.bLeadsNanos.get() < 0,
          "a stopped before b started");
      assertEquals(0, dog.both.get(), "never two leaders at once");
      assertTrue(now.revision() > old.revision(), "the new token is larger: " + now + " after " + old);
      assertTrue(old.put(b.client, election + "-fenced", "late write of a").rejected(),
          "a write fenced by the old leader's token is refused");
      assertTrue(now.put(b.client, election + "-fenced", "b").applied());
    }
  }

  /** Checks every 50 ms for {@code d} that {@code c} leads with {@code token}. */
  private static void holdsFor(Candidate c, FencingToken token, Duration d) {
    long end = System.nanoTime() + d.toNanos();
    await().atMost(d.plusSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
      assertTrue(c.manager.isLeader(), "still leading");
      assertEquals(token, c.manager.fencingToken().orElseThrow(), "with the same token");
      return System.nanoTime() - end > 0;
    });
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
