package io.dkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.ServerTestBase;
import io.dkv.testing.TestServer;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Every primitive, run against dkv-server ({@link DkvPrimitivesTest}) and etcd ({@link EtcdPrimitivesTest}). */
abstract class PrimitivesContract extends ServerTestBase {

  PrimitivesContract(TestServer server) {
    super(server);
  }

  record Order(String id, int quantity) {
  }

  /** Threads of the counter test (the same on both servers). */
  static final int COUNTER_THREADS = 16;

  /** Increments per thread of the counter test. */
  abstract int incrementsPerThread();

  private static final Duration WAIT = Duration.ofSeconds(20);

  // ------------------------------------------------------------------ typed values

  @Test
  void typedValuesCarryRevisionMetadata() {
    String p = unique("kv");
    long r1 = client.put(p + "order:1", new Order("o1", 3));
    Versioned<Order> v1 = client.get(p + "order:1", Order.class).orElseThrow();
    assertEquals(new Order("o1", 3), v1.value());
    assertEquals(r1, v1.createRevision());
    assertEquals(r1, v1.modRevision());
    assertEquals(1, v1.version());

    long r2 = client.put(p + "order:1", new Order("o1", 4));
    Versioned<Order> v2 = client.get(p + "order:1", Codec.json(Order.class)).orElseThrow();
    assertEquals(4, v2.value().quantity());
    assertEquals(r1, v2.createRevision());
    assertEquals(r2, v2.modRevision());
    assertEquals(2, v2.version());

    client.put(p + "s", "text");
    assertEquals("text", client.get(p + "s").orElseThrow().value());
    client.put(p + "b", new byte[] {1, 2, 3}, Codec.bytes());
    assertArrayEquals(new byte[] {1, 2, 3}, client.get(p + "b", byte[].class).orElseThrow().value());
    assertEquals(3, client.list(p, Codec.bytes()).size());

    assertTrue(client.delete(p + "order:1"));
    assertFalse(client.delete(p + "order:1"));
    assertEquals(Optional.empty(), client.get(p + "order:1", Order.class));
  }

  // ------------------------------------------------------------------ watch

  @Test
  void watchPrefixWithSnapshotSeesEveryLaterChangeOnce() {
    String p = unique("watch");
    client.put(p + "a", "1");
    long before = client.put(p + "b", "2");
    Recorder<String> rec = new Recorder<>();
    try (Subscription s = client.watchPrefix(p, Codec.string(), WatchOptions.withSnapshot(), rec)) {
      assertTrue(rec.snapshotRevision >= before);
      assertEquals(List.of("1", "2"), rec.snapshot.stream().map(Versioned::value).toList());
      long r1 = client.put(p + "c", "3");
      long r2 = client.put(p + "a", "1b");
      long r3 = client.jetcd().getKVClient().delete(Keys.bytes(p + "b")).join().getHeader().getRevision();
      await().atMost(WAIT).until(() -> rec.events.size() >= 3);
      assertEquals(List.of(
          new WatchEvent<>(WatchEvent.Type.PUT, p + "c", "3", null, r1),
          new WatchEvent<>(WatchEvent.Type.PUT, p + "a", "1b", "1", r2),
          new WatchEvent<>(WatchEvent.Type.DELETE, p + "b", null, "2", r3)), rec.events);
      await().atMost(WAIT).until(() -> s.revision() == r3);
    }
    client.put(p + "after-close", "x");
    assertEquals(3, rec.events.size());
  }

  @Test
  void watchKeyWithoutSnapshotStartsNow() {
    String p = unique("watchkey");
    client.put(p + "k", "old");
    Recorder<String> rec = new Recorder<>();
    try (Subscription s = client.watchKey(p + "k", Codec.string(), WatchOptions.defaults(), rec)) {
      client.put(p + "other", "ignored");
      long r = client.put(p + "k", "new");
      await().atMost(WAIT).until(() -> rec.events.size() == 1);
      assertEquals(new WatchEvent<>(WatchEvent.Type.PUT, p + "k", "new", "old", r), rec.events.get(0));
      assertTrue(rec.snapshot.isEmpty());
    }
  }

  @Test
  void compactionIsSignalledAndTheWatchGoesOn() {
    String p = unique("compact");
    long first = client.put(p + "k", "v1");
    long compactAt = client.put(p + "k", "v2");
    client.jetcd().getKVClient().compact(compactAt, CompactOption.newBuilder().withCompactPhysical(true).build())
        .join();
    Recorder<String> rec = new Recorder<>();
    WatchOptions from = WatchOptions.builder().startRevision(first).build();
    try (Subscription s = client.watchKey(p + "k", Codec.string(), from, rec)) {
      await().atMost(WAIT).until(() -> rec.compactions.size() == 1);
      assertEquals(compactAt, rec.compactions.get(0));
      long r = client.put(p + "k", "v3");
      await().atMost(WAIT).until(() -> rec.events.stream().anyMatch(e -> e.revision() == r));
      assertTrue(rec.events.stream().allMatch(e -> e.revision() >= compactAt));
    }
  }

  @Test
  void afterACompactionTheWatchReSnapshotsAndReportsTheDifference() {
    String p = unique("resnap");
    client.put(p + "a", "1");
    client.put(p + "b", "2");
    client.put(p + "c", "3");
    Recorder<String> rec = new Recorder<>();
    try (Subscription s = client.watchPrefix(p, Codec.string(), WatchOptions.withSnapshot(), rec)) {
      ((Watcher<?>) s).suspend(); // as if disconnected
      client.put(p + "a", "1x");
      client.delete(p + "b");
      client.put(p + "d", "4");
      long compactAt = client.put("unrelated-" + p, "x");
      client.jetcd().getKVClient().compact(compactAt).join();
      ((Watcher<?>) s).resume();
      await().atMost(WAIT).until(() -> rec.compactions.size() == 1);
      long at = rec.events.get(0).revision();
      assertTrue(at >= compactAt);
      assertEquals(List.of(
          new WatchEvent<>(WatchEvent.Type.PUT, p + "a", "1x", "1", at),
          new WatchEvent<>(WatchEvent.Type.PUT, p + "d", "4", null, at),
          new WatchEvent<>(WatchEvent.Type.DELETE, p + "b", null, "2", at)), rec.events);
      long r = client.put(p + "e", "5");
      await().atMost(WAIT).until(() -> rec.events.size() == 4);
      assertEquals(new WatchEvent<>(WatchEvent.Type.PUT, p + "e", "5", null, r), rec.events.get(3));
    }
  }

  // ------------------------------------------------------------------ counters

  @Test
  void concurrentIncrementsAreNeverLost() throws Exception {
    Counter c = client.counter(unique("counter") + "n");
    int threads = COUNTER_THREADS;
    int each = incrementsPerThread();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(pool.submit(() -> {
          for (int i = 0; i < each; i++) {
            c.add(1);
          }
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals((long) threads * each, c.get());
  }

  @Test
  void compareAndSetOnlyFromTheExpectedValue() {
    Counter c = client.counter(unique("cas") + "n");
    assertEquals(0, c.get());
    assertTrue(c.compareAndSet(0, 10));
    assertFalse(c.compareAndSet(0, 20));
    assertEquals(15, c.add(5));
    assertEquals(5, c.add(-10));
    assertTrue(c.compareAndSet(5, 0));
    assertEquals(0, c.get());
  }

  // ------------------------------------------------------------------ leases

  @Test
  void revokingALeaseDeletesItsKeysAndIsNotALoss() {
    String p = unique("lease");
    Lease lease = client.leases().grant(Duration.ofSeconds(5));
    AtomicBoolean lost = new AtomicBoolean();
    lease.onLost(() -> lost.set(true));
    client.jetcd().getKVClient().put(Keys.bytes(p + "k"), Keys.bytes("v"),
        PutOption.builder().withLeaseId(lease.id()).build()).join();
    assertEquals(lease.id(), client.get(p + "k").orElseThrow().lease());
    lease.revoke();
    assertFalse(lease.isAlive());
    assertEquals(Optional.empty(), client.get(p + "k"));
    assertFalse(lost.get());
  }

  // ------------------------------------------------------------------ locks

  @Test
  void lockIsExclusiveAndTokensGrow() throws Exception {
    String name = unique("lock") + "l";
    DistributedLock lock = client.lock(name, Duration.ofSeconds(10));
    LockHandle a = lock.acquire();
    assertEquals(Optional.empty(), lock.tryAcquire(Duration.ofMillis(300)));
    CompletableFuture<LockHandle> b = lock.acquireAsync();
    assertFalse(b.isDone());
    assertTrue(a.put(name + "-data", "from a").applied());
    a.release();
    LockHandle hb = b.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(hb.fencingToken().revision() > a.fencingToken().revision());
    assertTrue(a.put(name + "-data", "stale a").rejected());
    assertTrue(hb.put(name + "-data", "from b").applied());
    assertEquals("from b", client.get(name + "-data").orElseThrow().value());
    hb.release();
    // the timed-out attempt left nothing behind: only the data key remains
    assertEquals(List.of(), client.list(name + "/", Codec.bytes()));
  }

  @Test
  void whenTheOwnersLeaseExpiresTheNextWaiterAcquiresAndTheOldOwnerIsFenced() throws Exception {
    String name = unique("lockexp") + "l";
    try (DkvClient other = newClient()) {
      LockHandle owner = client.lock(name, Duration.ofSeconds(2)).acquire();
      AtomicBoolean ownerLost = new AtomicBoolean();
      owner.lease().onLost(() -> ownerLost.set(true));
      CompletableFuture<LockHandle> waiter = other.lock(name, Duration.ofSeconds(10)).acquireAsync();
      assertFalse(waiter.isDone());

      owner.lease().suspendKeepAlive(); // the owner stalls (a long GC pause, a partition): its lease runs out

      LockHandle next = await().atMost(WAIT).until(() -> waiter.getNow(null), h -> h != null);
      assertTrue(next.fencingToken().revision() > owner.fencingToken().revision());
      await().atMost(WAIT).untilTrue(ownerLost);
      FencedWrite stale = owner.put(name + "-data", "stale");
      assertTrue(stale.rejected(), "the old owner's write must be rejected");
      assertTrue(next.put(name + "-data", "fresh").applied());
      assertEquals("fresh", client.get(name + "-data").orElseThrow().value());
      next.release();
    }
  }

  // ------------------------------------------------------------------ elections

  @Test
  void electionHandsOverOnResignAndSignalsLoss() throws Exception {
    String name = unique("election") + "e";
    Election e = client.election(name, Duration.ofSeconds(10));
    List<Optional<String>> seen = new CopyOnWriteArrayList<>();
    try (Subscription obs = e.observe(l -> seen.add(l.map(Versioned::value)))) {
      Leadership a = e.campaign("a");
      assertTrue(a.isLeader());
      assertEquals("a", e.leader().orElseThrow().value());
      CompletableFuture<Leadership> b = e.campaignAsync("b");
      assertFalse(b.isDone());
      await().atMost(WAIT).until(() -> client.list(name + "/", Codec.bytes()).size() == 2); // b is in line
      a.resign();
      Leadership lb = b.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(lb.revision() > a.revision());
      assertFalse(a.lost().isDone(), "resigning is not losing");
      await().atMost(WAIT).until(() -> seen.contains(Optional.of("b")));
      assertEquals(Optional.of("a"), seen.get(seen.indexOf(Optional.of("b")) - 1));

      AtomicBoolean lost = new AtomicBoolean();
      lb.onLost(() -> lost.set(true));
      client.delete(lb.key()); // e.g. an operator removes the leader key
      await().atMost(WAIT).untilTrue(lost);
      assertFalse(lb.isLeader());
      assertTrue(lb.proclaim("b again").rejected());
      await().atMost(WAIT).until(() -> seen.get(seen.size() - 1).isEmpty());
    }
  }

  // ------------------------------------------------------------------ presence

  @Test
  void presenceTracksMembersComingAndGoing() {
    String prefix = unique("presence");
    Presence presence = client.presence(prefix);
    List<java.util.Map<String, String>> views = new CopyOnWriteArrayList<>();
    try (Presence.Registration one = presence.register("m1", "host1", Duration.ofSeconds(10));
        Subscription s = presence.watch(views::add)) {
      assertEquals(java.util.Map.of("m1", "host1"), views.get(0));
      try (Presence.Registration two = presence.register("m2", "host2", Duration.ofSeconds(10))) {
        await().atMost(WAIT).until(() -> views.get(views.size() - 1).equals(
            java.util.Map.of("m1", "host1", "m2", "host2")));
        assertEquals(java.util.Map.of("m1", "host1", "m2", "host2"), presence.members());
      }
      await().atMost(WAIT).until(() -> views.get(views.size() - 1).equals(java.util.Map.of("m1", "host1")));
    }
  }

  @Test
  void aStalledLeaderLosesLeadershipAndAStalledMemberDisappears() throws Exception {
    String name = unique("stall");
    Election e = client.election(name + "election", Duration.ofSeconds(2));
    Presence presence = client.presence(name + "members/");
    Leadership leader = e.campaign("stalled");
    AtomicBoolean lost = new AtomicBoolean();
    leader.onLost(() -> lost.set(true));
    CompletableFuture<Leadership> next = e.campaignAsync("next");
    Presence.Registration member = presence.register("stalled", "x", Duration.ofSeconds(2));
    try (Presence.Registration other = presence.register("alive", "y", Duration.ofSeconds(10))) {
      leader.handleLease().suspendKeepAlive();
      member.lease().suspendKeepAlive();
      await().atMost(WAIT).untilTrue(lost);
      assertFalse(leader.isLeader());
      Leadership l2 = next.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
      assertEquals("next", e.leader().orElseThrow().value());
      assertTrue(leader.put(name + "data", "stale").rejected());
      await().atMost(WAIT).until(() -> presence.members().equals(java.util.Map.of("alive", "y")));
      l2.resign();
    }
  }

  /** Records what a watch delivers. */
  static final class Recorder<T> implements WatchHandler<T> {
    final List<WatchEvent<T>> events = new CopyOnWriteArrayList<>();
    final List<Long> compactions = new CopyOnWriteArrayList<>();
    volatile List<Versioned<T>> snapshot = Collections.emptyList();
    volatile long snapshotRevision;

    @Override
    public void onEvent(WatchEvent<T> event) {
      events.add(event);
    }

    @Override
    public void onSnapshot(List<Versioned<T>> values, long revision) {
      snapshot = values;
      snapshotRevision = revision;
    }

    @Override
    public void onCompacted(long compactRevision, List<WatchEvent<T>> difference) {
      compactions.add(compactRevision);
      events.addAll(difference);
    }
  }

}
