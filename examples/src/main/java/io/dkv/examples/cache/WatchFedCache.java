package io.dkv.examples.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Subscription;
import io.dkv.client.Versioned;
import io.dkv.client.WatchEvent;
import io.dkv.client.WatchHandler;
import io.dkv.client.WatchOptions;
import java.util.List;
import java.util.Optional;

/**
 * A Caffeine cache of every key under a prefix, kept fresh by a watch: filled from the watch's snapshot, then
 * changed by each event as it arrives. It never expires anything and never reads the server after the snapshot;
 * once the watch has delivered revision R, the cache holds exactly the store's state at R.
 */
final class WatchFedCache implements AutoCloseable {

  private final Cache<String, Versioned<String>> cache = Caffeine.newBuilder().build();
  private final Subscription subscription;

  // region watch-fed-cache
  WatchFedCache(DkvClient client, String prefix) {
    subscription = client.watchPrefix(prefix, Codec.string(), WatchOptions.withSnapshot(), new WatchHandler<>() {
      @Override
      public void onSnapshot(List<Versioned<String>> values, long revision) {
        cache.invalidateAll();
        values.forEach(v -> cache.put(v.key(), v));
      }

      @Override
      public void onEvent(WatchEvent<String> e) {
        if (e.type() == WatchEvent.Type.DELETE) {
          cache.invalidate(e.key());
        } else {
          cache.asMap().merge(e.key(), new Versioned<>(e.key(), e.value(), 0, e.revision(), 0, 0),
              (old, now) -> now.modRevision() > old.modRevision() ? now : old);
        }
      }

      @Override
      public void onCompacted(long compactRevision, List<WatchEvent<String>> difference) {
        difference.forEach(this::onEvent); // with withSnapshot(): what changed while history was missed
      }
    });
  }
  // endregion

  /** The cached value of {@code key}; empty if the key does not exist (as of {@link #revision()}). */
  Optional<Versioned<String>> get(String key) {
    return Optional.ofNullable(cache.getIfPresent(key));
  }

  /** The revision up to which the watch has delivered every change into the cache. */
  long revision() {
    return subscription.revision();
  }

  @Override
  public void close() {
    subscription.close();
  }
}
