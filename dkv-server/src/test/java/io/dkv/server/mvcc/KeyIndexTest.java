package io.dkv.server.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyIndexTest {

  private static Revision rev(long main) {
    return new Revision(main, 0);
  }

  /** k: put 2, put 4, put 6, delete 8; put 10, put 12, delete 14; put 16 (live). */
  private static KeyIndex history() {
    KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8("k"));
    ki.put(rev(2));
    ki.put(rev(4));
    ki.put(rev(6));
    ki.tombstone(rev(8));
    ki.put(rev(10));
    ki.put(rev(12));
    ki.tombstone(rev(14));
    ki.put(rev(16));
    return ki;
  }

  private static void assertFound(KeyIndex ki, long at, long mod, long created, long version) {
    KeyIndex.Found f = ki.get(at);
    assertEquals(new KeyIndex.Found(rev(mod), created, version), f, "at " + at);
  }

  @Test
  void generationsGiveModCreateAndVersionAtEveryRevision() {
    KeyIndex ki = history();
    assertNull(ki.get(1));
    assertFound(ki, 2, 2, 2, 1);
    assertFound(ki, 3, 2, 2, 1);
    assertFound(ki, 4, 4, 2, 2);
    assertFound(ki, 7, 6, 2, 3);
    assertNull(ki.get(8), "deleted at 8");
    assertNull(ki.get(9));
    assertFound(ki, 10, 10, 10, 1); // a new generation: created again, version restarts
    assertFound(ki, 13, 12, 10, 2);
    assertNull(ki.get(14));
    assertNull(ki.get(15));
    assertFound(ki, 16, 16, 16, 1);
    assertFound(ki, 100, 16, 16, 1);
    assertTrue(ki.isLive());
    assertFalse(ki.isEmpty());
  }

  @Test
  void tombstoneEndsTheGeneration() {
    KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8("k"));
    assertTrue(ki.isEmpty());
    assertFalse(ki.isLive());
    ki.put(rev(5));
    ki.tombstone(rev(6));
    assertFalse(ki.isLive());
    assertFalse(ki.isEmpty());
    assertNull(ki.get(6));
    assertFound(ki, 5, 5, 5, 1);
  }

  @Test
  void subRevisionsOfOneMainRevision() {
    KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8("k"));
    ki.put(new Revision(3, 0));
    ki.put(new Revision(3, 1)); // the same key twice in one txn is refused by etcd; the index still copes
    ki.put(new Revision(4, 2));
    assertEquals(new KeyIndex.Found(new Revision(3, 1), 3, 2), ki.get(3));
    assertEquals(new KeyIndex.Found(new Revision(4, 2), 3, 3), ki.get(4));
  }

  @Test
  void sinceListsPutsAndTombstonesAfterARevision() {
    KeyIndex ki = history();
    assertEquals(List.of(rev(10), rev(12), rev(14), rev(16)), ki.since(8));
    assertEquals(List.of(), ki.since(16));
  }

  @Test
  void compactKeepsTheLatestRevisionOfTheGenerationAtTheCompactedRevision() {
    KeyIndex ki = history();
    Set<Revision> kept = new HashSet<>();
    ki.compact(5, kept);
    assertEquals(Set.of(rev(4)), kept);
    assertFound(ki, 5, 4, 2, 2); // version and creation survive the compaction
    assertFound(ki, 7, 6, 2, 3);
    assertNull(ki.get(8));
    assertFound(ki, 16, 16, 16, 1);
    assertEquals(List.of(rev(4), rev(6), rev(8), rev(10), rev(12), rev(14), rev(16)), ki.since(0));
  }

  @Test
  void compactAtATombstoneDropsTheWholeGeneration() {
    KeyIndex ki = history();
    Set<Revision> kept = new HashSet<>();
    ki.compact(8, kept);
    assertEquals(Set.of(), kept, "a tombstone is never kept");
    assertEquals(List.of(rev(10), rev(12), rev(14), rev(16)), ki.since(0));
    assertNull(ki.get(8));
    assertNull(ki.get(9));
    assertFound(ki, 11, 10, 10, 1);
  }

  @Test
  void compactInsideALaterGenerationDropsTheEarlierOnes() {
    KeyIndex ki = history();
    Set<Revision> kept = new HashSet<>();
    ki.compact(13, kept);
    assertEquals(Set.of(rev(12)), kept);
    assertEquals(List.of(rev(12), rev(14), rev(16)), ki.since(0));
    assertFound(ki, 13, 12, 10, 2);
    assertNull(ki.get(14));
  }

  @Test
  void compactOfADeletedKeyLeavesItEmpty() {
    KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8("k"));
    ki.put(rev(2));
    ki.put(rev(3));
    ki.tombstone(rev(4));
    Set<Revision> kept = new HashSet<>();
    ki.compact(3, kept);
    assertEquals(Set.of(rev(3)), kept);
    assertFalse(ki.isEmpty());
    kept.clear();
    ki.compact(4, kept);
    assertEquals(Set.of(), kept);
    assertTrue(ki.isEmpty());
  }

  @Test
  void keepAgreesWithCompact() {
    for (long at = 1; at <= 18; at++) {
      KeyIndex ki = history();
      Set<Revision> keep = new HashSet<>();
      ki.keep(at, keep);
      Set<Revision> kept = new HashSet<>();
      ki.compact(at, kept);
      assertEquals(kept, keep, "at " + at);
      // keep on the compacted index names the same revisions again
      Set<Revision> again = new HashSet<>();
      ki.keep(at, again);
      assertEquals(kept, again, "again at " + at);
    }
  }

  @Test
  void compactionNeverChangesAnswersAtOrAboveIt() {
    for (long at = 1; at <= 18; at++) {
      KeyIndex before = history();
      KeyIndex after = history();
      after.compact(at, new HashSet<>());
      for (long r = at; r <= 18; r++) {
        assertEquals(before.get(r), after.get(r), "compacted at " + at + ", read at " + r);
      }
    }
  }

  @Test
  void restoreContinuesACompactedHistory() {
    KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8("k"));
    ki.restore(2, rev(6), 3); // created at 2, version 3 at revision 6; earlier revisions compacted
    ki.put(rev(7));
    assertFound(ki, 6, 6, 2, 3);
    assertFound(ki, 7, 7, 2, 4);
    ki.tombstone(rev(8));
    ki.put(rev(9));
    assertFound(ki, 9, 9, 9, 1);
  }
}
