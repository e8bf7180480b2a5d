package io.dkv.informer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.testing.TestServer;
import io.dkv.client.Versioned;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** What a {@link WatchedCache} must do, run against dkv-server and against a real etcd. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WatchedCacheContract {

  private static final AtomicInteger IDS = new AtomicInteger();

  private final TestServer kind;
  /** Writes per writer thread in the concurrent test (etcd fsyncs every write, so fewer there). */
  private final int writesPerWriter;
  private TestServer.Running server;
  DkvClient client;

  WatchedCacheContract(TestServer kind, int writesPerWriter) {
    this.kind = kind;
    this.writesPerWriter = writesPerWriter;
  }

  @BeforeAll
  void startAll(@TempDir Path tmp) throws Exception {
    server = kind.start(tmp.resolve("server"));
    client = DkvClient.connect(server.endpoint());
  }

  @AfterAll
  void stopAll() {
    try {
      if (client != null) {
        client.close();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  static String unique() {
    return "wc" + IDS.incrementAndGet() + "/";
  }

  private WatchedCache<String> cache(String prefix, long size) {
    return WatchedCache.builder(client, prefix, Codec.string()).maximumSize(size)
        .meterRegistry(new SimpleMeterRegistry()).build();
  }

  private void awaitDelivered(WatchedCache<?> cache, long revision) {
    await().atMost(Duration.ofSeconds(20)).until(() -> cache.revision() >= revision);
  }

  @Test
  void readsThroughAndFollowsPutsAndDeletes() {
    String p = unique();
    client.put(p + "a", "1");
    try (WatchedCache<String> cache = cache(p, 100)) {
      assertEquals(Optional.of("1"), cache.get(p + "a"));
      assertEquals(Optional.empty(), cache.get(p + "b"));

      long r1 = client.put(p + "a", "2");
      long r2 = client.put(p + "b", "created");
      awaitDelivered(cache, r2);
      assertTrue(r1 < r2);
      // both were cached (one present, one absent): the watch updated them
      assertEquals(2, cache.estimatedSize());
      assertEquals(Optional.of("2"), cache.get(p + "a"));
      assertEquals(Optional.of("created"), cache.get(p + "b"));

      client.delete(p + "a");
      long r3 = client.put(p + "c", "x"); // an uncached key: not added by the watch
      awaitDelivered(cache, r3);
      assertEquals(1, cache.estimatedSize(), "the delete invalidated a, the put of c added nothing");
      assertEquals(Optional.empty(), cache.get(p + "a"));
    }
  }

  @Test
  void rejectsKeysOutsideThePrefixAndUseAfterClose() {
    String p = unique();
    WatchedCache<String> cache = cache(p, 10);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cache.get("elsewhere/x"));
    assertTrue(e.getMessage().contains("elsewhere/x") && e.getMessage().contains(p), e.getMessage());
    cache.close();
    assertThrows(IllegalStateException.class, () -> cache.get(p + "x"));
  }

  @Test
  void countsHitsMissesAndInvalidations() {
    String p = unique();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    client.put(p + "a", "1");
    try (WatchedCache<String> cache = WatchedCache.builder(client, p, Codec.string()).name("test")
        .meterRegistry(registry).build()) {
      cache.get(p + "a");
      cache.get(p + "a");
      cache.get(p + "a");
      assertTrue(client.delete(p + "a"));
      awaitDelivered(cache, currentRevision(p));
      assertEquals(1.0, registry.get("dkv.watched.cache.gets").tags("cache", "test", "result", "miss").counter().count());
      assertEquals(2.0, registry.get("dkv.watched.cache.gets").tags("cache", "test", "result", "hit").counter().count());
      assertEquals(1.0, registry.get("dkv.watched.cache.invalidations").tags("cache", "test").counter().count());
      assertEquals(0.0, registry.get("dkv.watched.cache.size").tags("cache", "test").gauge().value());
    }
    assertTrue(registry.find("dkv.watched.cache.gets").meters().isEmpty(), "meters removed on close");
  }

  private long currentRevision(String p) {
    return client.jetcd().getKVClient().get(io.etcd.jetcd.ByteSequence.from(p, java.nio.charset.StandardCharsets.UTF_8))
        .join().getHeader().getRevision();
  }

  @Test
  void respectsTheSizeBound() {
    String p = unique();
    for (int i = 0; i < 300; i++) {
      client.put(p + i, "v" + i);
    }
    try (WatchedCache<String> cache = cache(p, 50)) {
      for (int i = 0; i < 300; i++) {
        assertEquals(Optional.of("v" + i), cache.get(p + i));
      }
      assertTrue(cache.estimatedSize() <= 50, "size " + cache.estimatedSize());
      assertEquals(Optional.of("v7"), cache.get(p + 7)); // evicted keys are read again
    }
  }

  @Test
  void aLoadThatReadBeforeAPutDoesNotOverwriteIt() {
    String p = unique();
    String key = p + "k";
    client.put(key, "old");
    HeldRead held = new HeldRead(true);
    try (WatchedCache<String> cache = WatchedCache.builder(client, p, Codec.string())
        .meterRegistry(new SimpleMeterRegistry())
        .afterRead(held.operator())
        .build()) {
      CompletableFuture<Optional<String>> slow = cache.getAsync(key); // reads "old", then waits
      held.awaitRead();
      long r = client.put(key, "new");
      awaitDelivered(cache, r);
      held.release();

      assertEquals(Optional.of("old"), slow.join(), "the slow get started before the put");
      assertEquals(Optional.of("new"), cache.get(key), "the event must win over the older load");
    }
  }

  @Test
  void aLoadThatReadBeforeADeleteDoesNotResurrectTheKey() {
    String p = unique();
    String key = p + "k";
    client.put(key, "old");
    HeldRead held = new HeldRead(true);
    try (WatchedCache<String> cache = WatchedCache.builder(client, p, Codec.string())
        .meterRegistry(new SimpleMeterRegistry())
        .afterRead(held.operator())
        .build()) {
      CompletableFuture<Optional<String>> slow = cache.getAsync(key);
      held.awaitRead();
      client.delete(key);
      long r = client.put(p + "other", "x"); // to know when the delete has been delivered
      awaitDelivered(cache, r);
      held.release();

      assertEquals(Optional.of("old"), slow.join());
      assertEquals(Optional.empty(), cache.get(key), "the delete must win over the older load");
    }
  }

  @Test
  void lostHistoryInvalidatesEverythingIncludingLoadsInFlight() {
    String p = unique();
    client.put(p + "a", "1");
    client.put(p + "b", "1");
    HeldRead held = new HeldRead(false);
    try (WatchedCache<String> cache = WatchedCache.builder(client, p, Codec.string())
        .meterRegistry(new SimpleMeterRegistry())
        .afterRead(held.operator())
        .build()) {
      cache.get(p + "a");
      held.holdNext();
      CompletableFuture<Optional<String>> slow = cache.getAsync(p + "b");
      held.awaitRead();
      assertEquals(2, cache.estimatedSize());

      // as the watch's handler does when the server compacted revisions the watch still needed
      cache.historyLost(currentRevision(p));
      held.release();

      assertEquals(Optional.of("1"), slow.join());
      assertEquals(0, cache.estimatedSize(), "neither the cached entry nor the load in flight survives");
      long r = client.put(p + "a", "2");
      awaitDelivered(cache, r);
      assertEquals(Optional.of("2"), cache.get(p + "a"));
    }
  }

  /**
   * Many loads race many events on a few keys (a tiny cache and random invalidations force constant
   * reloads). Each key has one writer writing 1, 2, 3...; every get must return a value at least as new as
   * the last write the watch had delivered when the get started.
   */
  @Test
  void stressLoadsAgainstEvents() throws Exception {
    String p = unique();
    int keys = 4;
    int writes = writesPerWriter;
    List<Map<Integer, Long>> revisionOf = new ArrayList<>();
    for (int k = 0; k < keys; k++) {
      client.put(p + k, "0");
      revisionOf.add(new ConcurrentHashMap<>(Map.of(0, 0L)));
    }
    record Observation(int key, long delivered, int value) {}
    List<Observation> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(keys + 2);
    AtomicBoolean writing = new AtomicBoolean(true);
    // loads complete a few milliseconds after their read, which widens the window in which events race them
    try (WatchedCache<String> cache = WatchedCache.builder(client, p, Codec.string()).maximumSize(2)
        .meterRegistry(new SimpleMeterRegistry())
        .afterRead(read -> read.thenApplyAsync(v -> v,
            CompletableFuture.delayedExecutor(1 + ThreadLocalRandom.current().nextInt(5), TimeUnit.MILLISECONDS)))
        .build()) {
      List<Future<?>> writers = new ArrayList<>();
      for (int k = 0; k < keys; k++) {
        int key = k;
        writers.add(pool.submit(() -> {
          for (int v = 1; v <= writes; v++) {
            revisionOf.get(key).put(v, client.put(p + key, Integer.toString(v)));
          }
          return null;
        }));
      }
      List<Future<?>> others = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        others.add(pool.submit(() -> {
          while (writing.get()) {
            int key = ThreadLocalRandom.current().nextInt(keys);
            if (ThreadLocalRandom.current().nextBoolean()) {
              cache.invalidate(p + key); // so that many gets load while events arrive
            }
            long delivered = cache.revision();
            int value = Integer.parseInt(cache.get(p + key).orElseThrow());
            seen.add(new Observation(key, delivered, value));
          }
          return null;
        }));
      }
      for (Future<?> w : writers) {
        w.get(2, TimeUnit.MINUTES);
      }
      writing.set(false);
      for (Future<?> o : others) {
        o.get(1, TimeUnit.MINUTES);
      }

      long last = revisionOf.stream().mapToLong(m -> m.get(writes)).max().orElseThrow();
      awaitDelivered(cache, last);
      for (int k = 0; k < keys; k++) {
        assertEquals(Optional.of(Integer.toString(writes)), cache.get(p + k), "key " + k + " after the writes");
      }
      assertTrue(seen.size() > 10, "readers made progress: " + seen.size());
      for (Observation o : seen) {
        Map<Integer, Long> revs = revisionOf.get(o.key());
        int newestDelivered = revs.entrySet().stream().filter(e -> e.getValue() <= o.delivered())
            .mapToInt(Map.Entry::getKey).max().orElse(0);
        assertTrue(o.value() >= newestDelivered, "key " + o.key() + ": got " + o.value() + " after the watch had "
            + "delivered revision " + o.delivered() + ", which holds value " + newestDelivered);
      }
    } finally {
      writing.set(false);
      pool.shutdownNow();
    }
  }

  /** Writers put and delete over many keys while readers read; afterwards every cached value is the server's. */
  @Test
  void concurrentWritersAndReadersConverge() throws Exception {
    String p = unique();
    int keys = 60;
    int writers = 3;
    ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
    AtomicBoolean writing = new AtomicBoolean(true);
    try (WatchedCache<String> cache = cache(p, 40)) {
      List<Future<Long>> ws = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int id = w;
        ws.add(pool.submit(() -> {
          long last = 0;
          ThreadLocalRandom rnd = ThreadLocalRandom.current();
          for (int i = 0; i < writesPerWriter; i++) {
            String key = p + rnd.nextInt(keys);
            if (rnd.nextInt(5) == 0) {
              client.delete(key);
            } else {
              last = Math.max(last, client.put(key, id + ":" + i));
            }
          }
          return last;
        }));
      }
      List<Future<?>> readers = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        readers.add(pool.submit(() -> {
          while (writing.get()) {
            cache.get(p + ThreadLocalRandom.current().nextInt(keys));
          }
          return null;
        }));
      }
      for (Future<Long> w : ws) {
        w.get(2, TimeUnit.MINUTES);
      }
      writing.set(false);
      for (Future<?> r : readers) {
        r.get(1, TimeUnit.MINUTES);
      }
      long last = client.put(p + "done", "x"); // after every write and delete
      awaitDelivered(cache, last);

      assertTrue(cache.estimatedSize() <= 40, "size " + cache.estimatedSize());
      for (int k = 0; k < keys; k++) {
        Optional<String> server = client.get(p + k).map(Versioned::value);
        assertEquals(server, cache.get(p + k), "key " + k);
      }
    } finally {
      writing.set(false);
      pool.shutdownNow();
    }
  }

  /**
   * Holds back the result of the next server read a cache makes: the read completes on the server, then waits
   * for {@link #release()} before the cache sees it, so a test can write in between.
   */
  static final class HeldRead {
    private final AtomicBoolean holdNext;
    private final CompletableFuture<Void> readDone = new CompletableFuture<>();
    private final CompletableFuture<Void> released = new CompletableFuture<>();

    HeldRead(boolean holdFirst) {
      holdNext = new AtomicBoolean(holdFirst);
    }

    <X> UnaryOperator<CompletableFuture<X>> operator() {
      return read -> holdNext.getAndSet(false)
          ? read.thenCompose(v -> {
            readDone.complete(null);
            return released.thenApply(x -> v);
          })
          : read;
    }

    void holdNext() {
      holdNext.set(true);
    }

    /** Waits until the held read has its answer from the server. */
    void awaitRead() {
      readDone.join();
    }

    void release() {
      released.complete(null);
    }
  }
}
