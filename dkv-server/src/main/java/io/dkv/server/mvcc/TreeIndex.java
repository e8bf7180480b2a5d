package io.dkv.server.mvcc;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The in-memory index from user key to its {@link KeyIndex}, ordered as etcd orders keys (unsigned bytes).
 * Only the writer adds, changes or removes entries; readers iterate concurrently.
 */
final class TreeIndex {

  /** One key's revision at the revision a range was read at. */
  record Entry(ByteString key, KeyIndex.Found found) {}

  private final ConcurrentSkipListMap<ByteString, KeyIndex> keys =
      new ConcurrentSkipListMap<>(ByteString.unsignedLexicographicalComparator());

  KeyIndex get(ByteString key) {
    return keys.get(key);
  }

  KeyIndex getOrCreate(ByteString key) {
    return keys.computeIfAbsent(key, KeyIndex::new);
  }

  int size() {
    return keys.size();
  }

  /**
   * The keys in [key, end) that exist at {@code atRev}, in key order, at most {@code limit} of them (0: all),
   * and how many there are in all. {@code end} follows etcd: empty means the single key, "\0" every key from
   * {@code key} on.
   */
  List<Entry> range(ByteString key, ByteString end, long atRev, long limit, int[] total) {
    List<Entry> out = new ArrayList<>();
    int count = 0;
    for (KeyIndex ki : span(key, end)) {
      KeyIndex.Found f = ki.get(atRev);
      if (f == null) {
        continue;
      }
      count++;
      if (limit <= 0 || out.size() < limit) {
        out.add(new Entry(ki.key(), f));
      }
    }
    total[0] = count;
    return out;
  }

  /** The key indexes in [key, end), with etcd's meaning of {@code end}. */
  Iterable<KeyIndex> span(ByteString key, ByteString end) {
    if (end.isEmpty()) {
      KeyIndex ki = keys.get(key);
      return ki == null ? List.of() : List.of(ki);
    }
    NavigableMap<ByteString, KeyIndex> sub;
    if (Keys.isToEnd(end)) {
      sub = keys.tailMap(key, true);
    } else if (ByteString.unsignedLexicographicalComparator().compare(key, end) >= 0) {
      return List.of();
    } else {
      sub = keys.subMap(key, true, end, false);
    }
    return sub.values();
  }

  /** Compacts every key at {@code atRev}, dropping keys left without history; returns the revisions kept. */
  Set<Revision> compact(long atRev) {
    Set<Revision> available = new HashSet<>();
    for (Iterator<KeyIndex> it = keys.values().iterator(); it.hasNext(); ) {
      KeyIndex ki = it.next();
      ki.compact(atRev, available);
      if (ki.isEmpty()) {
        it.remove();
      }
    }
    return available;
  }

  /** The revisions a compaction at {@code atRev} keeps. */
  Set<Revision> keep(long atRev) {
    Set<Revision> available = new HashSet<>();
    for (KeyIndex ki : keys.values()) {
      ki.keep(atRev, available);
    }
    return available;
  }
}
