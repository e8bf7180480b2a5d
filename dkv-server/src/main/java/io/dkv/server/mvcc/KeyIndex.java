package io.dkv.server.mvcc;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The revisions of one key, in generations as in etcd: a generation runs from the key's creation to its
 * deletion (the tombstone, its last revision); the last generation is empty while the key is deleted.
 *
 * <p>The single writer mutates it; readers on other threads query it, so every method is synchronized.
 */
final class KeyIndex {

  /** What a key was at some revision: its last modification, its creation and its version. */
  record Found(Revision modified, long createdMain, long version) {}

  private static final class Generation {
    long version;
    long createdMain;
    final ArrayList<Revision> revs = new ArrayList<>(2);

    boolean isEmpty() {
      return revs.isEmpty();
    }

    Revision last() {
      return revs.get(revs.size() - 1);
    }

    /** Index of the last revision whose main revision is at or below {@code atRev}; -1 if none. */
    int lastAtOrBefore(long atRev) {
      for (int i = revs.size() - 1; i >= 0; i--) {
        if (revs.get(i).main() <= atRev) {
          return i;
        }
      }
      return -1;
    }
  }

  private final ByteString key;
  private final ArrayList<Generation> generations = new ArrayList<>(1);

  KeyIndex(ByteString key) {
    this.key = key;
    generations.add(new Generation());
  }

  ByteString key() {
    return key;
  }

  synchronized void put(Revision rev) {
    Generation g = generations.get(generations.size() - 1);
    if (g.isEmpty()) {
      g.createdMain = rev.main();
    }
    g.revs.add(rev);
    g.version++;
  }

  /** Restores the first revision seen of a key whose earlier history was compacted away. */
  synchronized void restore(long createdMain, Revision rev, long version) {
    Generation g = generations.get(generations.size() - 1);
    g.createdMain = createdMain;
    g.version = version;
    g.revs.add(rev);
  }

  /** Records a deletion; the key must currently exist. */
  synchronized void tombstone(Revision rev) {
    put(rev);
    generations.add(new Generation());
  }

  /** True while the key exists (its last generation is not empty). */
  synchronized boolean isLive() {
    return !generations.get(generations.size() - 1).isEmpty();
  }

  synchronized boolean isEmpty() {
    return generations.size() == 1 && generations.get(0).isEmpty();
  }

  /** The key as of {@code atRev}, or null if it did not exist then. */
  synchronized Found get(long atRev) {
    Generation g = findGeneration(atRev);
    if (g == null) {
      return null;
    }
    int n = g.lastAtOrBefore(atRev);
    if (n < 0) {
      return null;
    }
    return new Found(g.revs.get(n), g.createdMain, g.version - (g.revs.size() - n - 1));
  }

  private Generation findGeneration(long rev) {
    int last = generations.size() - 1;
    for (int i = last; i >= 0; i--) {
      Generation g = generations.get(i);
      if (g.isEmpty()) {
        continue;
      }
      if (i != last && g.last().main() <= rev) {
        return null; // deleted at or before rev
      }
      if (g.revs.get(0).main() <= rev) {
        return g;
      }
    }
    return null;
  }

  /** Every revision (puts and the tombstone) with main revision greater than {@code afterRev}. */
  synchronized List<Revision> since(long afterRev) {
    List<Revision> out = new ArrayList<>();
    for (Generation g : generations) {
      for (Revision r : g.revs) {
        if (r.main() > afterRev) {
          out.add(r);
        }
      }
    }
    return out;
  }

  /**
   * Drops the revisions at or below {@code atRev} except the latest one of the live generation (a
   * tombstone is not kept), adding the ones kept to {@code available}.
   */
  synchronized void compact(long atRev, Set<Revision> available) {
    int genIdx = compactionPoint(atRev, available);
    Generation g = generations.get(genIdx);
    if (!g.isEmpty()) {
      int revIdx = g.lastAtOrBefore(atRev);
      if (revIdx > 0) {
        g.revs.subList(0, revIdx).clear();
      }
      if (g.revs.size() == 1 && genIdx != generations.size() - 1 && g.revs.get(0).main() <= atRev) {
        available.remove(g.revs.get(0));
        genIdx++;
      }
    }
    generations.subList(0, genIdx).clear();
  }

  /** Adds to {@code available} the revisions that {@link #compact} at {@code atRev} would keep. */
  synchronized void keep(long atRev, Set<Revision> available) {
    if (isEmpty()) {
      return;
    }
    int genIdx = compactionPoint(atRev, available);
    Generation g = generations.get(genIdx);
    if (!g.isEmpty()) {
      int revIdx = g.lastAtOrBefore(atRev);
      if (revIdx == g.revs.size() - 1 && genIdx != generations.size() - 1) {
        available.remove(g.revs.get(revIdx));
      }
    }
  }

  /** The first generation not wholly at or below atRev; its latest revision at or below atRev is kept. */
  private int compactionPoint(long atRev, Set<Revision> available) {
    int genIdx = 0;
    while (genIdx < generations.size() - 1 && generations.get(genIdx).last().main() <= atRev) {
      genIdx++;
    }
    Generation g = generations.get(genIdx);
    int revIdx = g.lastAtOrBefore(atRev);
    if (revIdx >= 0) {
      available.add(g.revs.get(revIdx));
    }
    return genIdx;
  }
}
