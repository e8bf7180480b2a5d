package io.dkv.examples.cache;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The usual alternative: a Caffeine cache that loads a key from the server on a miss and forgets it a TTL after
 * loading. It reads the server once per key and TTL, and may serve a value up to a TTL old.
 */
final class TtlCache {

  private final AtomicLong reads = new AtomicLong();
  private final LoadingCache<String, Optional<Versioned<String>>> cache;

  // region ttl-cache
  TtlCache(DkvClient client, Duration ttl) {
    cache = Caffeine.newBuilder()
        .expireAfterWrite(ttl)                         // a loaded value is trusted for ttl, changed or not
        .build(key -> {
          reads.incrementAndGet();
          return client.get(key);                      // one server read per miss
        });
  }
  // endregion

  /** The value of {@code key}, from the cache or loaded from the server. */
  Optional<Versioned<String>> get(String key) {
    return cache.get(key);
  }

  /** Server reads made by loading. */
  long reads() {
    return reads.get();
  }
}
