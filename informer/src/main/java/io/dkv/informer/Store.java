package io.dkv.informer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread-safe cache: objects by key (in key order) with their revisions, and secondary indexes. Reads take
 * a read lock, so each one sees one state; {@link #batch} makes several writes one atomic step for readers.
 * Writes cost O(log n) plus the object's index values; nothing copies the whole cache except the methods that
 * return every key or object.
 */
final class Store<T> implements Lister<T> {

  private static final Logger log = LoggerFactory.getLogger(Store.class);

  /** A cached object and the revision of its last change. */
  record Entry<T>(T object, long revision) {}

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final TreeMap<String, Entry<T>> items = new TreeMap<>();
  private final Map<String, Function<? super T, ? extends Collection<String>>> indexers;
  /** index name -> index value -> keys. */
  private final Map<String, Map<String, TreeSet<String>>> indices = new HashMap<>();
  private long revision;

  Store(Map<String, Function<? super T, ? extends Collection<String>>> indexers) {
    this.indexers = Map.copyOf(indexers);
    for (String name : this.indexers.keySet()) {
      indices.put(name, new HashMap<>());
    }
  }

  /** Stores {@code object} under {@code key}; returns the entry it replaced, or null. */
  Entry<T> put(String key, T object, long rev) {
    lock.writeLock().lock();
    try {
      Entry<T> old = items.put(key, new Entry<>(object, rev));
      if (old != null) {
        unindex(key, old.object());
      }
      index(key, object);
      revision = Math.max(revision, rev);
      return old;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Removes {@code key}; returns the entry removed, or null. */
  Entry<T> remove(String key, long rev) {
    lock.writeLock().lock();
    try {
      Entry<T> old = items.remove(key);
      if (old != null) {
        unindex(key, old.object());
      }
      revision = Math.max(revision, rev);
      return old;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Sets the revision the cache reflects. */
  void revision(long rev) {
    lock.writeLock().lock();
    try {
      revision = rev;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Runs {@code writes} so that no reader sees a state between them. */
  void batch(Runnable writes) {
    lock.writeLock().lock();
    try {
      writes.run();
    } finally {
      lock.writeLock().unlock();
    }
  }

  Entry<T> entry(String key) {
    lock.readLock().lock();
    try {
      return items.get(key);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Every key and its entry, in key order (a copy). */
  List<Map.Entry<String, Entry<T>>> entries() {
    lock.readLock().lock();
    try {
      // copies of the entries: a TreeMap reuses its entry objects when it removes others
      List<Map.Entry<String, Entry<T>>> out = new ArrayList<>(items.size());
      items.forEach((k, e) -> out.add(Map.entry(k, e)));
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Every key with the revision cached for it, and the cache revision, read together. */
  record Revisions(long revision, Map<String, Long> keys) {}

  Revisions revisions() {
    lock.readLock().lock();
    try {
      Map<String, Long> keys = new HashMap<>(items.size() * 4 / 3 + 1);
      items.forEach((k, e) -> keys.put(k, e.revision()));
      return new Revisions(revision, keys);
    } finally {
      lock.readLock().unlock();
    }
  }

  int size() {
    lock.readLock().lock();
    try {
      return items.size();
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------- Lister

  @Override
  public Optional<T> get(String key) {
    Entry<T> e = entry(key);
    return e == null ? Optional.empty() : Optional.of(e.object());
  }

  @Override
  public List<T> list() {
    lock.readLock().lock();
    try {
      List<T> out = new ArrayList<>(items.size());
      for (Entry<T> e : items.values()) {
        out.add(e.object());
      }
      return Collections.unmodifiableList(out);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public Set<String> keys() {
    lock.readLock().lock();
    try {
      return Collections.unmodifiableSortedSet(new TreeSet<>(items.keySet()));
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public List<T> byIndex(String indexName, String value) {
    Map<String, TreeSet<String>> index = indices.get(indexName);
    if (index == null) {
      throw new IllegalArgumentException("no index named " + indexName + "; defined: " + indexers.keySet());
    }
    lock.readLock().lock();
    try {
      TreeSet<String> keys = index.get(value);
      if (keys == null) {
        return List.of();
      }
      List<T> out = new ArrayList<>(keys.size());
      for (String k : keys) {
        Entry<T> e = items.get(k);
        if (e != null) {
          out.add(e.object());
        }
      }
      return Collections.unmodifiableList(out);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public long revision() {
    lock.readLock().lock();
    try {
      return revision;
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------- indexes

  private void index(String key, T object) {
    for (Map.Entry<String, Function<? super T, ? extends Collection<String>>> i : indexers.entrySet()) {
      Map<String, TreeSet<String>> index = indices.get(i.getKey());
      for (String v : values(i.getKey(), i.getValue(), key, object)) {
        index.computeIfAbsent(v, x -> new TreeSet<>()).add(key);
      }
    }
  }

  private void unindex(String key, T object) {
    for (Map.Entry<String, Function<? super T, ? extends Collection<String>>> i : indexers.entrySet()) {
      Map<String, TreeSet<String>> index = indices.get(i.getKey());
      for (String v : values(i.getKey(), i.getValue(), key, object)) {
        TreeSet<String> keys = index.get(v);
        if (keys != null && keys.remove(key) && keys.isEmpty()) {
          index.remove(v);
        }
      }
    }
  }

  /** The index values of an object; an index function that throws or returns null gives none (logged). */
  private static <T> Collection<String> values(String name,
      Function<? super T, ? extends Collection<String>> f, String key, T object) {
    try {
      Collection<String> v = f.apply(object);
      return v == null ? List.of() : v;
    } catch (RuntimeException e) {
      log.error("index function {} failed on {}; the object is left out of that index", name, key, e);
      return List.of();
    }
  }

  /** For tests: the keys under each value of an index. */
  Map<String, Set<String>> indexContents(String indexName) {
    lock.readLock().lock();
    try {
      Map<String, Set<String>> out = new LinkedHashMap<>();
      indices.get(indexName).forEach((v, keys) -> out.put(v, Set.copyOf(keys)));
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }
}
