package io.dkv.examples.cache;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.examples.Target;
import io.dkv.informer.WatchedCache;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Caffeine caches of the same keys under the same writes: one kept fresh by a watch, one that reloads a key a
 * TTL after loading it, and the informer module's {@code WatchedCache} (read-through, bounded, kept fresh by
 * one watch). A reader reads every key from each, over and over, and the example prints how stale each cache's
 * answers were, and how many server reads each needed.
 *
 * <pre>
 * java -cp "examples/target/classes:$(cat examples/target/classpath.txt)" io.dkv.examples.Examples cache
 * </pre>
 */
@Command(name = "cache", mixinStandardHelpOptions = true,
    description = "A watch-fed Caffeine cache next to a TTL cache: how stale each gets under the same writes.")
public final class CacheExample implements Callable<Integer> {

  @Option(names = "--endpoint", description = "etcd-v3 endpoint (default: an embedded dkv-server)")
  String endpoint;

  @Option(names = "--keys", description = "keys in the cached set (default: ${DEFAULT-VALUE})")
  int keys = 50;

  @Option(names = "--writes-per-second", description = "updates of random keys (default: ${DEFAULT-VALUE})")
  int writesPerSecond = 100;

  @Option(names = "--duration-s", description = "how long the writes go on (default: ${DEFAULT-VALUE})")
  int durationSeconds = 5;

  @Option(names = "--ttl-ms", description = "the TTL cache's expiry after load (default: ${DEFAULT-VALUE})")
  long ttlMillis = 1000;

  /**
   * How both caches did.
   *
   * @param watch        the watch-fed cache (a Caffeine cache filled by a watch with snapshot)
   * @param ttl          the TTL cache
   * @param watchedCache the informer module's {@code WatchedCache} (read-through, kept fresh by one watch)
   * @param writes       updates made
   */
  public record Report(CacheResult watch, CacheResult ttl, CacheResult watchedCache, long writes) {
  }

  @Override
  public Integer call() throws Exception {
    Report r = run(System.out);
    return r.watch().staleAtEnd() == 0 && r.watchedCache().staleAtEnd() == 0 ? 0 : 1;
  }

  /** Writes, reads both caches meanwhile, and prints the comparison to {@code out}. */
  public Report run(PrintStream out) throws InterruptedException {
    if (keys < 1 || writesPerSecond < 1 || durationSeconds < 1 || ttlMillis < 1) {
      throw new IllegalArgumentException("--keys, --writes-per-second, --duration-s and --ttl-ms must be positive");
    }
    try (Target target = Target.open(endpoint); DkvClient client = target.connect()) {
      String prefix = "examples/cache/" + UUID.randomUUID().toString().substring(0, 8) + "/";
      out.printf("cache: %d keys, %d writes/s for %d s, TTL %d ms, against %s%n", keys, writesPerSecond,
          durationSeconds, ttlMillis, target);
      List<String> names = new ArrayList<>();
      Writes writes = new Writes();
      for (int i = 0; i < keys; i++) {
        names.add(String.format("%sitem-%04d", prefix, i));
        writes.put(client, names.get(i), "v0");
      }
      Staleness watchStale = new Staleness();
      Staleness ttlStale = new Staleness();
      Staleness wcStale = new Staleness();
      TtlCache ttl = new TtlCache(client, Duration.ofMillis(ttlMillis));
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      try (WatchFedCache watched = new WatchFedCache(client, prefix);
           WatchedCache<String> wc = WatchedCache.builder(client, prefix, Codec.string()).maximumSize(keys)
               .meterRegistry(registry).build()) {
        Function<String, Long> watchedRev = k -> watched.get(k).map(Versioned::modRevision).orElse(0L);
        Function<String, Long> ttlRev = k -> ttl.get(k).map(Versioned::modRevision).orElse(0L);
        Function<String, Long> wcRev = k -> wc.get(k).map(v -> writes.revisionOf(k, v)).orElse(0L);
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread reader = new Thread(() -> {
          while (writing.get()) {                 // every key from both caches, about once a millisecond
            for (String k : names) {
              writes.check(k, watchedRev, watchStale);
              writes.check(k, ttlRev, ttlStale);
              writes.check(k, wcRev, wcStale);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
          }
        }, "cache-reader");
        reader.setDaemon(true);
        reader.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(durationSeconds);
        long period = TimeUnit.SECONDS.toNanos(1) / writesPerSecond;
        long next = System.nanoTime();
        long seq = 0;
        while (next < end) {
          String k = names.get(ThreadLocalRandom.current().nextInt(keys));
          writes.put(client, k, "v" + (++seq));
          next += period;
          long wait = next - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
        }
        writing.set(false);
        reader.join();
        // wait until the watch has delivered the last write, then compare every key with the store
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((watched.revision() < writes.lastRevision() || wc.revision() < writes.lastRevision())
            && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        int watchStaleAtEnd = writes.staleKeys(names, watchedRev);
        int ttlStaleAtEnd = writes.staleKeys(names, ttlRev);
        int wcStaleAtEnd = writes.staleKeys(names, wcRev);
        io.micrometer.core.instrument.Counter misses = registry.find("dkv.watched.cache.gets").tag("result", "miss")
            .counter();
        long wcLoads = misses == null ? -1 : (long) misses.count();
        Report r = new Report(watchStale.result("watch", 1, watchStaleAtEnd),
            ttlStale.result("ttl", ttl.reads(), ttlStaleAtEnd), wcStale.result("watched-cache", wcLoads, wcStaleAtEnd),
            seq);
        print(out, r);
        return r;
      }
    }
  }

  private void print(PrintStream out, Report r) {
    out.printf("%-34s %14s %14s %14s%n", "", "watch-fed", "TTL " + ttlMillis + " ms", "WatchedCache");
    List<CacheResult> all = List.of(r.watch(), r.ttl(), r.watchedCache());
    row(out, "reads served", all, c -> c.reads());
    row(out, "stale reads", all, c -> String.format("%.2f %%", c.stalePercent()));
    row(out, "staleness p99 of stale reads (ms)", all, c -> String.format("%.1f", c.staleP99Millis()));
    row(out, "staleness max (ms)", all, c -> String.format("%.1f", c.staleMaxMillis()));
    row(out, "server reads", all, c -> c.serverReads());
    row(out, "stale keys after the last write", all, c -> c.staleAtEnd());
    out.printf("(%d writes; the watch-kept caches are compared once their watches delivered the last one;%n"
        + " WatchedCache's server reads are its loads, one per key it was asked for)%n", r.writes());
  }

  private static void row(PrintStream out, String label, List<CacheResult> caches, Function<CacheResult, Object> f) {
    out.printf("%-34s %14s %14s %14s%n", label, f.apply(caches.get(0)), f.apply(caches.get(1)), f.apply(caches.get(2)));
  }

  /** Every acknowledged write: per key, revision to the time its put returned, and each value's revision. */
  private static final class Writes {
    private final Map<String, ConcurrentSkipListMap<Long, Long>> byKey = new ConcurrentHashMap<>();
    private final Map<String, Long> revisionOfValue = new ConcurrentHashMap<>();
    private final AtomicLong last = new AtomicLong();

    void put(DkvClient client, String key, String value) {
      long rev = client.put(key, value);
      revisionOfValue.put(key + "=" + value, rev);   // values are unique per key
      byKey.computeIfAbsent(key, k -> new ConcurrentSkipListMap<>()).put(rev, System.nanoTime());
      last.accumulateAndGet(rev, Math::max);
    }

    /** The revision that wrote {@code value} to {@code key} (for a cache that returns values only). */
    long revisionOf(String key, String value) {
      return revisionOfValue.getOrDefault(key + "=" + value, Long.MAX_VALUE); // not yet acknowledged: not stale
    }

    long lastRevision() {
      return last.get();
    }

    /**
     * Reads {@code key} through {@code cache} and records whether the answer was stale: older than a write
     * acknowledged before the read began (writes acknowledged during the read do not count).
     */
    void check(String key, Function<String, Long> cacheRevision, Staleness into) {
      long now = System.nanoTime();
      long seen = cacheRevision.apply(key);
      Map.Entry<Long, Long> newer = byKey.get(key).higherEntry(seen);
      if (newer != null && newer.getValue() - now < 0) {
        into.stale(now - newer.getValue());
      } else {
        into.fresh();
      }
    }

    /** Keys whose value read now through {@code cache} is older than the key's last write. */
    int staleKeys(List<String> keys, Function<String, Long> cacheRevision) {
      int stale = 0;
      for (String k : keys) {
        long seen = cacheRevision.apply(k);
        if (seen < byKey.get(k).lastKey()) {
          stale++;
        }
      }
      return stale;
    }
  }
}
