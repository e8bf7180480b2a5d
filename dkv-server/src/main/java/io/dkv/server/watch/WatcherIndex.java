package io.dkv.server.watch;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.Keys;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The synced watchers, indexed so that finding the watchers of a key costs no more than the number of
 * matches plus the key's length: single keys in a hash map, prefixes by prefix (looked up for each prefix
 * length in use), open-ended ranges by start key; only other ranges are scanned.
 */
final class WatcherIndex {

  // values are a Watcher, or a Set of them when several watch the same key: most keys have one watcher,
  // and a set per key would double the memory of an idle watcher
  private final Map<ByteString, Object> exact = new HashMap<>();
  private final Map<ByteString, Object> prefixes = new HashMap<>();
  private final TreeMap<Integer, Integer> prefixLengths = new TreeMap<>();
  private final TreeMap<ByteString, Set<Watcher>> fromKey =
      new TreeMap<>(ByteString.unsignedLexicographicalComparator());
  private final Set<Watcher> ranges = new HashSet<>();
  private int size;

  int size() {
    return size;
  }

  void add(Watcher w) {
    size++;
    if (w.end.isEmpty()) {
      exact.merge(w.key, w, WatcherIndex::join);
    } else if (w.isFromKey()) {
      fromKey.computeIfAbsent(w.key, k -> new HashSet<>(2)).add(w);
    } else if (w.end.equals(Keys.prefixEnd(w.key))) {
      prefixes.merge(w.key, w, WatcherIndex::join);
      prefixLengths.merge(w.key.size(), 1, Integer::sum);
    } else {
      ranges.add(w);
    }
  }

  void remove(Watcher w) {
    boolean removed;
    if (w.end.isEmpty()) {
      removed = leave(exact, w.key, w);
    } else if (w.isFromKey()) {
      removed = removeFrom(fromKey, w.key, w);
    } else if (w.end.equals(Keys.prefixEnd(w.key))) {
      removed = leave(prefixes, w.key, w);
      if (removed) {
        prefixLengths.computeIfPresent(w.key.size(), (k, n) -> n == 1 ? null : n - 1);
      }
    } else {
      removed = ranges.remove(w);
    }
    if (removed) {
      size--;
    }
  }

  @SuppressWarnings("unchecked")
  private static Object join(Object old, Object w) {
    Set<Watcher> set;
    if (old instanceof Watcher one) {
      set = new HashSet<>(4);
      set.add(one);
    } else {
      set = (Set<Watcher>) old;
    }
    set.add((Watcher) w);
    return set;
  }

  /** Removes {@code w} from the entry of {@code k}; true if it was there. */
  private static boolean leave(Map<ByteString, Object> map, ByteString k, Watcher w) {
    Object v = map.get(k);
    if (v == w) {
      map.remove(k);
      return true;
    }
    if (v instanceof Set<?> set && set.remove(w)) {
      if (set.size() == 1) {
        map.put(k, set.iterator().next());
      }
      return true;
    }
    return false;
  }

  @SuppressWarnings("unchecked")
  private static void visit(Object v, Consumer<Watcher> f) {
    if (v instanceof Watcher w) {
      f.accept(w);
    } else if (v != null) {
      ((Set<Watcher>) v).forEach(f);
    }
  }

  private static boolean removeFrom(TreeMap<ByteString, Set<Watcher>> map, ByteString k, Watcher w) {
    Set<Watcher> set = map.get(k);
    if (set == null || !set.remove(w)) {
      return false;
    }
    if (set.isEmpty()) {
      map.remove(k);
    }
    return true;
  }

  /** Calls {@code f} for every watcher whose range covers {@code key}. */
  void forEachCovering(ByteString key, Consumer<Watcher> f) {
    visit(exact.get(key), f);
    for (int len : prefixLengths.keySet()) {
      if (len > key.size()) {
        break;
      }
      visit(prefixes.get(key.substring(0, len)), f);
    }
    if (!fromKey.isEmpty()) {
      NavigableMap<ByteString, Set<Watcher>> head = fromKey.headMap(key, true);
      for (Set<Watcher> s : head.values()) {
        s.forEach(f);
      }
    }
    for (Watcher w : ranges) {
      if (w.covers(key)) {
        f.accept(w);
      }
    }
  }
}
