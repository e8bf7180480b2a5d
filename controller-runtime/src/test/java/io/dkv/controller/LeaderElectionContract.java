package io.dkv.controller;

import io.dkv.testing.TcpProxy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.FencedWrite;
import io.dkv.client.FencingToken;
import io.dkv.client.Versioned;
import io.dkv.testing.ServerTestBase;
import io.dkv.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three managers campaign for one election; the leader's reconciler keeps writing fenced log entries. The
 * leader is deposed (its lease revoked, or its network cut) and another takes over; the log on the server shows
 * that no two leaders' writes ever interleaved.
 */
abstract class LeaderElectionContract extends ServerTestBase {

  private static final Logger log = LoggerFactory.getLogger(LeaderElectionContract.class);
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final Duration LEASE = Duration.ofSeconds(3);

  private final List<AutoCloseable> toClose = new ArrayList<>();

  LeaderElectionContract(TestServer server) {
    super(server);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    toClose.clear();
  }

  /** One candidate process: its client, elector, manager, and what its reconciler did. */
  final class Candidate {
    final String identity;
    final DkvClient client;
    final LeaderElector elector;
    final Manager manager;
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger rejected = new AtomicInteger();
    final AtomicLong firstActNanos = new AtomicLong();
    volatile long stoppedNanos;

    Candidate(String identity, String clientEndpoint, String prefix, Shared shared) {
      this.identity = identity;
      this.client = DkvClient.connect(clientEndpoint);
      this.elector = LeaderElector.builder(client, prefix + "election").identity(identity)
          .leaseDuration(LEASE).renewDeadline(Duration.ofSeconds(2)).retryPeriod(Duration.ofMillis(300)).build();
      this.manager = Manager.builder().leaderElector(elector).shutdownTimeout(Duration.ofSeconds(5)).build();
      FakeInformer<String> work = new FakeInformer<>(s -> s);
      work.put("work");
      AtomicInteger seq = new AtomicInteger();
      manager.add(Controller.builder("writer").meterRegistry(manager.meterRegistry())
          .forResource(work, Request::ofKey)
          .build(request -> {
            FencingToken token = elector.fencingToken().orElseThrow(() -> new TerminalException("not leading"));
            firstActNanos.compareAndSet(0, System.nanoTime());
            shared.enter(identity);
            try {
              FencedWrite r = token.put(client, prefix + "log/" + identity + "-" + seq.incrementAndGet(),
                  identity + " " + token.revision());
              (r.applied() ? writes : rejected).incrementAndGet();
            } finally {
              shared.exit(identity);
            }
            return Result.requeueAfter(Duration.ofMillis(20));
          }));
      manager.stopped().whenComplete((v, e) -> stoppedNanos = System.nanoTime());
    }

    void close() {
      manager.close();
      client.close();
    }
  }

  /** Who is reconciling right now, across the candidates of this JVM. */
  static final class Shared {
    final Set<String> acting = ConcurrentHashMap.newKeySet();
    final AtomicInteger overlaps = new AtomicInteger();

    void enter(String identity) {
      acting.add(identity);
      if (acting.size() > 1) {
        overlaps.incrementAndGet();
        log.error("two leaders act at once: {}", acting);
      }
    }

    void exit(String identity) {
      acting.remove(identity);
    }
  }

  private List<Candidate> startCandidates(String prefix, List<String> endpoints, Shared shared) {
    List<Candidate> cs = new ArrayList<>();
    for (int i = 0; i < endpoints.size(); i++) {
      Candidate c = new Candidate("m" + i, endpoints.get(i), prefix, shared);
      toClose.add(c::close);
      cs.add(c);
    }
    cs.forEach(c -> c.manager.start());
    return cs;
  }

  private static Candidate awaitSoleLeader(List<Candidate> cs) {
    await().atMost(Duration.ofSeconds(20)).until(() -> cs.stream().filter(c -> c.manager.isLeader()).count() == 1);
    return cs.stream().filter(c -> c.manager.isLeader()).findFirst().orElseThrow();
  }

  /** The fenced log on the server, in revision order: tokens never go back, and each token is one candidate's. */
  private void checkLog(String prefix, int expectedLeaders) {
    List<Versioned<String>> entries = new ArrayList<>(client.list(prefix + "log/", Codec.string()));
    entries.sort(Comparator.comparingLong(Versioned::modRevision));
    Map<Long, String> ownerOfToken = new HashMap<>();
    long lastToken = 0;
    for (Versioned<String> e : entries) {
      String[] parts = e.value().split(" ");
      long token = Long.parseLong(parts[1]);
      assertTrue(token >= lastToken, "a write with token " + token + " at revision " + e.modRevision()
          + " follows one with the newer token " + lastToken + ": two leaders acted at once");
      lastToken = token;
      String previous = ownerOfToken.putIfAbsent(token, parts[0]);
      assertTrue(previous == null || previous.equals(parts[0]), "token " + token + " used by two candidates");
    }
    assertEquals(expectedLeaders, ownerOfToken.size(), "leaders that wrote: " + ownerOfToken);
  }

  @Test
  void whenTheLeadersLeaseIsRevokedAnotherTakesOverAndFencingRejectsTheOldLeader() throws Exception {
    String prefix = "/le" + IDS.incrementAndGet() + "/";
    Shared shared = new Shared();
    List<Candidate> cs = startCandidates(prefix, List.of(endpoint, endpoint, endpoint), shared);
    Candidate first = awaitSoleLeader(cs);
    await().until(() -> first.writes.get() >= 5);
    FencingToken token = first.elector.fencingToken().orElseThrow();
    assertEquals(first.identity, first.elector.currentLeader().orElseThrow());

    long lease = client.get(token.key()).orElseThrow().lease();
    client.jetcd().getLeaseClient().revoke(lease).get(10, TimeUnit.SECONDS);

    CompletionException lost = assertThrows(CompletionException.class,
        () -> first.manager.stopped().orTimeout(LEASE.toMillis(), TimeUnit.MILLISECONDS).join());
    assertInstanceOf(LeadershipLostException.class, lost.getCause());
    assertTrue(first.elector.fencingToken().isEmpty());
    assertTrue(!first.manager.isHealthy());
    Candidate second = awaitSoleLeaderAmong(cs, first);
    await().until(() -> second.writes.get() >= 5);
    FencingToken newToken = second.elector.fencingToken().orElseThrow();
    assertTrue(newToken.revision() > token.revision(), "fencing tokens grow");
    assertTrue(token.put(client, prefix + "late", "stale").rejected(),
        "a write fenced by the old token is refused");
    checkLog(prefix, 2);
  }

  private static Candidate awaitSoleLeaderAmong(List<Candidate> cs, Candidate deposed) {
    await().atMost(LEASE.multipliedBy(2)).until(() ->
        cs.stream().filter(c -> c != deposed && c.manager.isLeader()).count() == 1);
    Candidate next = cs.stream().filter(c -> c != deposed && c.manager.isLeader()).findFirst().orElseThrow();
    assertNotEquals(deposed.identity, next.identity);
    return next;
  }

  @Test
  void aPartitionedLeaderStopsBeforeItsLeaseExpiresAndOnlyThenAnotherLeads() throws Exception {
    String prefix = "/le" + IDS.incrementAndGet() + "/";
    Shared shared = new Shared();
    List<TcpProxy> proxies = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      TcpProxy p = new TcpProxy(endpoint);
      proxies.add(p);
      toClose.add(p); // closed after the candidates
    }
    List<Candidate> cs = startCandidates(prefix, proxies.stream().map(TcpProxy::endpoint).toList(), shared);
    Candidate first = awaitSoleLeader(cs);
    await().until(() -> first.writes.get() >= 5);

    long cutAt = System.nanoTime();
    proxies.get(cs.indexOf(first)).blackhole();

    Candidate second = awaitSoleLeaderAmong(cs, first);
    await().until(() -> second.writes.get() >= 5);
    assertTrue(first.manager.stopped().isCompletedExceptionally(), "the partitioned leader stepped down");
    assertTrue(first.stoppedNanos != 0 && first.stoppedNanos - second.firstActNanos.get() < 0,
        "the old leader stopped before the new one acted");
    assertEquals(0, shared.overlaps.get(), "no moment with two leaders reconciling");
    log.info("partition: old leader stopped after {} ms, new leader acted after {} ms (lease {})",
        (first.stoppedNanos - cutAt) / 1_000_000, (second.firstActNanos.get() - cutAt) / 1_000_000, LEASE);
    checkLog(prefix, 2);
    proxies.get(cs.indexOf(first)).close(); // the partitioned client now fails fast instead of timing out
  }

  @Test
  void closingTheLeaderHandsOverAtOnce() {
    String prefix = "/le" + IDS.incrementAndGet() + "/";
    Shared shared = new Shared();
    List<Candidate> cs = startCandidates(prefix, List.of(endpoint, endpoint), shared);
    Candidate first = awaitSoleLeader(cs);
    await().until(() -> first.writes.get() >= 3);
    first.manager.close();
    assertTrue(first.manager.stopped().isDone() && !first.manager.stopped().isCompletedExceptionally());
    Candidate second = awaitSoleLeaderAmong(cs, first);
    await().until(() -> second.writes.get() >= 3);
    assertEquals(0, shared.overlaps.get());
    checkLog(prefix, 2);
  }

  @Test
  void electorOptionsAreChecked() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LeaderElector.builder(client, "x").leaseDuration(Duration.ofSeconds(10))
            .renewDeadline(Duration.ofSeconds(10)).build());
    assertEquals("renewDeadline PT10S must be shorter than leaseDuration PT10S, so a leader stops before its lease"
        + " can expire", e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> LeaderElector.builder(client, "x").leaseDuration(Duration.ofMillis(1500)));
    assertThrows(IllegalArgumentException.class,
        () -> LeaderElector.builder(client, "x").retryPeriod(Duration.ofSeconds(10)).build());
  }
}
