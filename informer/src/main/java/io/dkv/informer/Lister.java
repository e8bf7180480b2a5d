package io.dkv.informer;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A thread-safe read view of an informer's cache. Every method reads one consistent state of the cache.
 *
 * @param <T> the object type
 */
public interface Lister<T> {

  /** The object cached under {@code key}. */
  Optional<T> get(String key);

  /** Every cached object, in key order. */
  List<T> list();

  /** Every cached key, in order. */
  Set<String> keys();

  /**
   * The objects whose index {@code indexName} yields {@code value}, in key order.
   *
   * @throws IllegalArgumentException if no index of that name was defined
   */
  List<T> byIndex(String indexName, String value);

  /** The revision the cache reflects: every change up to it, and none after it, is applied. */
  long revision();
}
