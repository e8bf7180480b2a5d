package io.dkv.examples.cache;

import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.examples.Target;
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
 * Two Caffeine caches of the same keys under the same writes: one kept fresh by a watch, one that reloads a key
 * a TTL after loading it. A reader reads every key from both, over and over, and the example prints how stale
 * each cache's answers were, and how many server reads each needed.
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
   * @param watch        the watch-fed cache
   * @param ttl          the TTL cache
   * @param writes       updates made
   */
  public record Report(CacheResult watch, CacheResult ttl, long writes) {
  }

  @Override
  public Integer call() throws Exception {
    Report r = run(System.out);
    return r.watch().staleAtEnd() == 0 ? 0 : 1;
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
      TtlCache ttl = new TtlCache(client, Duration.ofMillis(ttlMillis));
      try (WatchFedCache watched = new WatchFedCache(client, prefix)) {
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread reader = new Thread(() -> {
          while (writing.get()) {                 // every key from both caches, about once a millisecond
            for (String k : names) {
              writes.check(k, watched::get, watchStale);
              writes.check(k, ttl::get, ttlStale);
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
        while (watched.revision() < writes.lastRevision() && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        int watchStaleAtEnd = writes.staleKeys(names, watched::get);
        int ttlStaleAtEnd = writes.staleKeys(names, ttl::get);
        Report r = new Report(watchStale.result("watch", 1, watchStaleAtEnd),
            ttlStale.result("ttl", ttl.reads(), ttlStaleAtEnd), seq);
        print(out, r);
        return r;
      }
    }
  }

  private void print(PrintStream out, Report r) {
    out.printf("%-34s %14s %14s%n", "", "watch-fed", "TTL " + ttlMillis + " ms");
    row(out, "reads served", r.watch().reads(), r.ttl().reads());
    row(out, "stale reads", String.format("%.2f %%", r.watch().stalePercent()),
        String.format("%.2f %%", r.ttl().stalePercent()));
    row(out, "staleness p99 of stale reads (ms)", String.format("%.1f", r.watch().staleP99Millis()),
        String.format("%.1f", r.ttl().staleP99Millis()));
    row(out, "staleness max (ms)", String.format("%.1f", r.watch().staleMaxMillis()),
        String.format("%.1f", r.ttl().staleMaxMillis()));
    row(out, "server reads", r.watch().serverReads(), r.ttl().serverReads());
    row(out, "stale keys after the last write", r.watch().staleAtEnd(), r.ttl().staleAtEnd());
    out.printf("(%d writes; the watch-fed cache is compared once its watch delivered the last one)%n", r.writes());
  }

  private static void row(PrintStream out, String label, Object watch, Object ttl) {
    out.printf("%-34s %14s %14s%n", label, watch, ttl);
  }

  /** Every acknowledged write: per key, revision to the time its put returned. */
  private static final class Writes {
    private final Map<String, ConcurrentSkipListMap<Long, Long>> byKey = new ConcurrentHashMap<>();
    private final AtomicLong last = new AtomicLong();

    void put(DkvClient client, String key, String value) {
      long rev = client.put(key, value);
      byKey.computeIfAbsent(key, k -> new ConcurrentSkipListMap<>()).put(rev, System.nanoTime());
      last.accumulateAndGet(rev, Math::max);
    }

    long lastRevision() {
      return last.get();
    }

    /**
     * Reads {@code key} through {@code cache} and records whether the answer was stale: older than a write
     * acknowledged before the read began (writes acknowledged during the read do not count).
     */
    void check(String key, Function<String, Optional<Versioned<String>>> cache, Staleness into) {
      long now = System.nanoTime();
      long seen = cache.apply(key).map(Versioned::modRevision).orElse(0L);
      Map.Entry<Long, Long> newer = byKey.get(key).higherEntry(seen);
      if (newer != null && newer.getValue() - now < 0) {
        into.stale(now - newer.getValue());
      } else {
        into.fresh();
      }
    }

    /** Keys whose value read now through {@code cache} is older than the key's last write. */
    int staleKeys(List<String> keys, Function<String, Optional<Versioned<String>>> cache) {
      int stale = 0;
      for (String k : keys) {
        long seen = cache.apply(k).map(Versioned::modRevision).orElse(0L);
        if (seen < byKey.get(k).lastKey()) {
          stale++;
        }
      }
      return stale;
    }
  }
}
