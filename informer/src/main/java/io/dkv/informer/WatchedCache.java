package io.dkv.informer;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.DkvException;
import io.dkv.client.Subscription;
import io.dkv.client.WatchEvent;
import io.dkv.client.WatchHandler;
import io.dkv.client.WatchOptions;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Tags;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded read-through cache of the keys under a prefix of an etcd-v3 server (DKV or etcd), for keyspaces
 * too large to mirror in an informer. A miss reads the key from the server; one watch of the whole prefix
 * keeps what is cached fresh: a put replaces a cached value (or one being loaded), a delete invalidates it.
 * Absent keys are cached as absent, and kept fresh the same way.
 *
 * <p>The guarantee: once the watch has delivered revision {@code R} (see {@link #revision()}), every
 * {@link #get} returns a state of the key at least as new as {@code R}. A load that read an older state
 * while a newer event arrived does not overwrite that event. When the watch loses history (the server
 * compacted the revisions it needed), everything cached is invalidated.
 *
 * <pre>{@code
 * try (WatchedCache<Order> orders = WatchedCache.builder(client, "orders/", Codec.json(Order.class))
 *     .maximumSize(100_000)
 *     .build()) {
 *   Optional<Order> o = orders.get("orders/42");
 * }
 * }</pre>
 *
 * <p>Metrics (when a {@link MeterRegistry} is given, tag {@code cache}): {@code dkv.watched.cache.gets}
 * tagged {@code result=hit|miss}, {@code dkv.watched.cache.updates}, {@code dkv.watched.cache.invalidations}
 * and the gauge {@code dkv.watched.cache.size}.
 *
 * @param <V> the value type
 */
public final class WatchedCache<V> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WatchedCache.class);

  private final DkvClient client;
  private final String prefix;
  private final Codec<V> codec;
  private final Duration timeout;
  private final UnaryOperator<CompletableFuture<CachedValue<V>>> afterRead;
  private final AsyncCache<String, CachedValue<V>> cache;
  private final Counter hits;
  private final Counter misses;
  private final Counter updates;
  private final Counter invalidations;
  private final Gauge size;
  private final MeterRegistry registry;
  private final Subscription watch;
  /** The revision up to which watch events have been applied; written only by the watch's handler. */
  private volatile long applied;
  private volatile boolean closed;

  private WatchedCache(Builder<V> b) {
    this.client = b.client;
    this.prefix = b.prefix;
    this.codec = b.codec;
    this.timeout = b.timeout;
    this.afterRead = b.afterRead;
    this.cache = Caffeine.newBuilder().maximumSize(b.maximumSize).buildAsync();
    Tags tags = Tags.of("cache", b.name);
    this.hits = b.registry.counter("dkv.watched.cache.gets", tags.and("result", "hit"));
    this.misses = b.registry.counter("dkv.watched.cache.gets", tags.and("result", "miss"));
    this.updates = b.registry.counter("dkv.watched.cache.updates", tags);
    this.invalidations = b.registry.counter("dkv.watched.cache.invalidations", tags);
    this.size = Gauge.builder("dkv.watched.cache.size", cache, c -> c.synchronous().estimatedSize()).tags(tags)
        .register(b.registry);
    this.registry = b.registry;
    // the watch starts before any load: whatever a load reads, every later change is delivered
    this.watch = client.watchPrefix(prefix, codec, WatchOptions.builder()
        .backoff(Duration.ofMillis(100), Duration.ofSeconds(5)).build(), new Handler());
    this.applied = watch.revision();
  }

  /** A builder of a cache over the keys under {@code prefix} (may be empty: the whole keyspace). */
  public static <V> Builder<V> builder(DkvClient client, String prefix, Codec<V> codec) {
    return new Builder<>(client, prefix, codec);
  }

  /**
   * The value of {@code key} (which must start with the prefix), from the cache or else read from the
   * server, waiting at most the {@linkplain Builder#timeout timeout}.
   *
   * @throws DkvException if the read fails or times out
   */
  public Optional<V> get(String key) {
    CompletableFuture<Optional<V>> f = getAsync(key);
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DkvException("interrupted while reading " + key, e);
    } catch (TimeoutException e) {
      throw new DkvException("no answer for " + key + " within " + timeout, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof DkvException d ? d : new DkvException("cannot read " + key + ": " + cause, cause);
    } catch (CancellationException e) {
      throw new DkvException("reading " + key + " was cancelled", e);
    }
  }

  /** Asynchronously, the value of {@code key}; see {@link #get}. */
  public CompletableFuture<Optional<V>> getAsync(String key) {
    return entry(key).thenApply(c -> Optional.ofNullable(c.value()));
  }

  /** The cached state of {@code key}, loading it on a miss. */
  CompletableFuture<CachedValue<V>> entry(String key) {
    Objects.requireNonNull(key, "key");
    if (!key.startsWith(prefix)) {
      throw new IllegalArgumentException("key '" + key + "' is not under the prefix '" + prefix + "'");
    }
    if (closed) {
      throw new IllegalStateException("the watched cache of " + prefix + " is closed");
    }
    boolean[] loaded = {false};
    CompletableFuture<CachedValue<V>> f = cache.get(key, (k, executor) -> {
      loaded[0] = true;
      return load(k);
    });
    (loaded[0] ? misses : hits).increment();
    return f;
  }

  private CompletableFuture<CachedValue<V>> load(String key) {
    CompletableFuture<CachedValue<V>> read = client.jetcd().getKVClient()
        .get(ByteSequence.from(key, StandardCharsets.UTF_8))
        .thenApply(r -> {
          long revision = r.getHeader().getRevision();
          if (r.getKvs().isEmpty()) {
            return new CachedValue<V>(null, 0, revision);
          }
          KeyValue kv = r.getKvs().get(0);
          return new CachedValue<>(codec.decode(kv.getValue().getBytes()), kv.getModRevision(), revision);
        });
    return afterRead.apply(read);
  }

  /**
   * The revision up to which the watch has delivered every change to this cache: a {@link #get} started
   * after this returned {@code R} sees each key as of {@code R} or later.
   */
  public long revision() {
    return applied;
  }

  /** Drops {@code key} from the cache (the next get reads it again). */
  public void invalidate(String key) {
    if (cache.asMap().remove(key) != null) {
      invalidations.increment();
    }
  }

  /** Drops everything cached, including loads in flight. */
  public void invalidateAll() {
    long n = cache.synchronous().estimatedSize();
    cache.synchronous().invalidateAll();
    invalidations.increment(n);
  }

  /** About how many keys are cached (present or known absent). */
  public long estimatedSize() {
    cache.synchronous().cleanUp();
    return cache.synchronous().estimatedSize();
  }

  /**
   * Stops the watch, empties the cache and removes its meters; gets fail afterwards. Does not close the
   * client.
   */
  @Override
  public void close() {
    closed = true;
    watch.close();
    cache.synchronous().invalidateAll();
    for (io.micrometer.core.instrument.Meter m : List.of(hits, misses, updates, invalidations, size)) {
      registry.remove(m);
    }
  }

  /**
   * The watch missed changes up to {@code compactRevision}: nothing cached can be trusted, nor any load in
   * flight (its result is dropped with its entry). Called by the watch's handler.
   */
  void historyLost(long compactRevision) {
    log.warn("watched cache of {}: the watch lost history up to revision {}; invalidating everything", prefix,
        compactRevision);
    invalidateAll();
    applied = Math.max(applied, compactRevision);
  }

  /** Applies the watch's events, one at a time, in revision order. */
  private final class Handler implements WatchHandler<V> {
    @Override
    public void onEvent(WatchEvent<V> event) {
      long revision = event.revision();
      if (event.type() == WatchEvent.Type.DELETE) {
        invalidate(event.key());
      } else {
        CachedValue<V> fresh = new CachedValue<>(event.value(), revision, revision);
        cache.asMap().computeIfPresent(event.key(), (k, current) -> {
          // a load in flight may have read an older state: the event wins over it
          if (current.isDone() && !current.isCompletedExceptionally() && current.join().revision() >= revision) {
            return current;
          }
          updates.increment();
          return CompletableFuture.completedFuture(fresh);
        });
      }
      applied = Math.max(applied, revision);
    }

    @Override
    public void onCompacted(long compactRevision, List<WatchEvent<V>> difference) {
      historyLost(compactRevision);
    }
  }

  /**
   * A cached state of one key.
   *
   * @param value       the value, or null when the key was absent
   * @param modRevision the revision of the key's last change (0 when absent)
   * @param revision    the revision this state is known to be current at
   */
  record CachedValue<V>(V value, long modRevision, long revision) {}

  /**
   * Options of a {@link WatchedCache}.
   *
   * <pre>{@code
   * WatchedCache.builder(client, "users/", Codec.json(User.class)).maximumSize(50_000).meterRegistry(registry).build();
   * }</pre>
   *
   * @param <V> the value type
   */
  public static final class Builder<V> {
    private final DkvClient client;
    private final String prefix;
    private final Codec<V> codec;
    private long maximumSize = 10_000;
    private Duration timeout = Duration.ofSeconds(30);
    private MeterRegistry registry = Metrics.globalRegistry;
    private String name;
    private UnaryOperator<CompletableFuture<CachedValue<V>>> afterRead = UnaryOperator.identity();

    private Builder(DkvClient client, String prefix, Codec<V> codec) {
      this.client = Objects.requireNonNull(client, "client");
      this.prefix = Objects.requireNonNull(prefix, "prefix");
      this.codec = Objects.requireNonNull(codec, "codec");
      this.name = prefix;
    }

    /** The most keys cached (default 10,000); beyond it, the least useful entries are evicted. */
    public Builder<V> maximumSize(long maximumSize) {
      if (maximumSize <= 0) {
        throw new IllegalArgumentException("maximumSize must be positive, got " + maximumSize);
      }
      this.maximumSize = maximumSize;
      return this;
    }

    /** How long a blocking {@link WatchedCache#get} waits for a read (default 30 s). */
    public Builder<V> timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** Where the metrics go (default Micrometer's global registry). */
    public Builder<V> meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The {@code cache} tag of the metrics (default the prefix). */
    public Builder<V> name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** For tests: wraps every read, so a test can hold a load back while events arrive. */
    Builder<V> afterRead(UnaryOperator<CompletableFuture<CachedValue<V>>> afterRead) {
      this.afterRead = Objects.requireNonNull(afterRead, "afterRead");
      return this;
    }

    /** Starts the watch and returns the (empty) cache. */
    public WatchedCache<V> build() {
      return new WatchedCache<>(this);
    }
  }
}
