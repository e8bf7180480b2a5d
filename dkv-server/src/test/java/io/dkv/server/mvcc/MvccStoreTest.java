package io.dkv.server.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.KeyValue;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

/**
 * The keyspace against a model: every read at every revision is compared with what an independent map of
 * the history says it must be, before and after compaction and after reopening the store.
 */
class MvccStoreTest {

  private static final ByteString ALL = ByteString.copyFrom(new byte[] {0});

  @TempDir
  Path dir;

  private final List<Backend> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    opened.forEach(Backend::close);
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  // ---------------------------------------------------------------- a store and its model

  /** A store on a directory, and the model of what it must contain at every revision. */
  private final class Fixture {
    final Path path;
    Backend backend;
    MvccStore store;
    /** The keyspace at each revision at which it changed (revision 1: empty). */
    final TreeMap<Long, TreeMap<String, KeyValue>> history = new TreeMap<>(Map.of(1L, new TreeMap<>()));
    int uncommitted;

    Fixture(String name) throws IOException {
      path = dir.resolve(name);
      reopen();
    }

    void reopen() throws IOException {
      if (backend != null) {
        backend.close();
        opened.remove(backend);
      }
      backend = Backend.open(path);
      opened.add(backend);
      store = MvccStore.open(backend);
    }

    TreeMap<String, KeyValue> model() {
      return history.lastEntry().getValue();
    }

    /** One write transaction: puts of the given key=value pairs and deletes of the given keys. */
    long txn(List<String[]> puts, List<String> deletes) {
      MvccStore.WriteTxn t = store.write();
      long main = store.currentRevision() + 1;
      TreeMap<String, KeyValue> next = new TreeMap<>(model());
      for (String[] p : puts) {
        KeyValue prev = next.get(p[0]);
        long r = t.put(bs(p[0]), bs(p[1]), 0);
        assertEquals(main, r);
        next.put(p[0], KeyValue.newBuilder().setKey(bs(p[0])).setValue(bs(p[1]))
            .setCreateRevision(prev == null ? main : prev.getCreateRevision()).setModRevision(main)
            .setVersion(prev == null ? 1 : prev.getVersion() + 1).build());
      }
      for (String d : deletes) {
        long n = t.deleteRange(bs(d), ByteString.EMPTY);
        assertEquals(next.remove(d) == null ? 0 : 1, n, "deleted count of " + d);
      }
      t.end();
      uncommitted++;
      if (t.changed()) {
        assertEquals(main, store.currentRevision());
        history.put(main, next);
      } else {
        assertEquals(main - 1, store.currentRevision());
      }
      return store.currentRevision();
    }

    long put(String k, String v) {
      long r = txn(List.<String[]>of(new String[] {k, v}), List.of());
      commit();
      return r;
    }

    long delete(String k) {
      long r = txn(List.of(), List.of(k));
      commit();
      return r;
    }

    void commit() {
      store.commit(store.appliedIndex() + uncommitted, 1);
      uncommitted = 0;
    }

    /** A seeded random history: puts, overwrites, deletes, multi-key txns, group commits. */
    void randomHistory(long seed, int txns) {
      Random rnd = new Random(seed);
      for (int i = 0; i < txns; i++) {
        int op = rnd.nextInt(10);
        String k = "k" + rnd.nextInt(12);
        if (op < 6) {
          txn(List.<String[]>of(new String[] {k, "v" + i}), List.of());
        } else if (op < 8) {
          txn(List.of(), List.of(k));
        } else {
          String k2 = "k" + ((Integer.parseInt(k.substring(1)) + 1 + rnd.nextInt(10)) % 12);
          String k3 = "k" + ((Integer.parseInt(k.substring(1)) + 11) % 12);
          List<String> del = k3.equals(k2) ? List.of() : List.of(k3);
          txn(List.of(new String[] {k, "a" + i}, new String[] {k2, "b" + i}), del);
        }
        if (rnd.nextInt(3) == 0) {
          commit();
        }
      }
      commit();
    }

    /** Puts every key of the random histories once: versions and creations must continue where they were. */
    void touchAll(String tag) {
      List<String[]> puts = new ArrayList<>();
      for (int k = 0; k < 12; k++) {
        puts.add(new String[] {"k" + k, tag});
      }
      txn(puts, List.of());
      commit();
    }

    List<KeyValue> expectedAt(long rev) {
      return List.copyOf(history.floorEntry(rev).getValue().values());
    }

    List<KeyValue> rangeAt(long rev) {
      return store.read().range(ALL, ALL, 0, rev, false).kvs();
    }

    /** Every read at every revision from {@code from} to the current one is what the model says. */
    void assertMatchesModel(long from) {
      long cur = store.committedRevision();
      assertEquals(history.lastKey(), cur);
      for (long r = from; r <= cur; r++) {
        List<KeyValue> expected = expectedAt(r);
        assertEquals(expected, rangeAt(r), "range of all keys at " + r);
        RangeResult counted = store.read().range(ALL, ALL, 0, r, true);
        assertEquals(expected.size(), counted.count(), "count at " + r);
        for (KeyValue kv : expected) {
          assertEquals(List.of(kv), store.read().range(kv.getKey(), ByteString.EMPTY, 0, r, false).kvs(),
              "get " + kv.getKey().toStringUtf8() + " at " + r);
        }
      }
    }

    void assertCompactedBelow(long compacted) {
      for (long r = 1; r < compacted; r++) {
        long at = r;
        EtcdException e = assertThrows(EtcdException.class, () -> rangeAt(at), "read at " + at);
        assertEquals(EtcdError.COMPACTED, e.error());
      }
    }

    /** The storage records at or below {@code rev}, as (revision, tombstone, value). */
    List<Object[]> recordsAtOrBelow(long rev) {
      List<Object[]> out = new ArrayList<>();
      backend.scanKv(Revision.startKey(0), Revision.startKey(rev + 1), (k, v) -> {
        out.add(new Object[] {Revision.fromKey(k), Revision.isTombstone(k), MvccStore.parse(v)});
        return true;
      });
      return out;
    }

    /** True for a record a compaction at {@code compacted} keeps: the revision of a key live then. */
    boolean keptBy(long compacted, Object[] record) {
      if ((boolean) record[1]) {
        return false;
      }
      KeyValue kv = (KeyValue) record[2];
      KeyValue live = history.floorEntry(compacted).getValue().get(kv.getKey().toStringUtf8());
      return live != null && live.getModRevision() == ((Revision) record[0]).main();
    }

    void assertOnlyKeptRecordsAtOrBelow(long compacted) {
      List<Object[]> records = recordsAtOrBelow(compacted);
      for (Object[] rec : records) {
        assertTrue(keptBy(compacted, rec), "record " + rec[0] + " (tombstone " + rec[1] + ") survived compaction");
      }
      assertEquals(expectedAt(compacted).size(), records.size(), "one record per key live at " + compacted);
    }
  }

  // ---------------------------------------------------------------- tests

  @Test
  void versionsAndRevisionsPerKeyAcrossGenerations() throws IOException {
    Fixture f = new Fixture("gen");
    assertEquals(1, f.store.committedRevision(), "an empty store is at revision 1, as etcd");
    assertEquals(2, f.put("a", "1"));
    assertEquals(3, f.put("a", "2"));
    assertEquals(4, f.put("b", "1"));
    assertEquals(5, f.delete("a"));
    assertEquals(5, f.delete("a"), "deleting a missing key changes nothing");
    assertEquals(6, f.put("a", "3"));

    ByteString a = bs("a");
    KeyValue at3 = f.store.read().range(a, ByteString.EMPTY, 0, 3, false).kvs().get(0);
    assertEquals(List.of(2L, 3L, 2L, "2"),
        List.of(at3.getCreateRevision(), at3.getModRevision(), at3.getVersion(), at3.getValue().toStringUtf8()));
    assertTrue(f.store.read().range(a, ByteString.EMPTY, 0, 5, false).kvs().isEmpty(), "deleted at 5");
    KeyValue now = f.store.read().range(a, ByteString.EMPTY, 0, 0, false).kvs().get(0);
    assertEquals(List.of(6L, 6L, 1L, "3"),
        List.of(now.getCreateRevision(), now.getModRevision(), now.getVersion(), now.getValue().toStringUtf8()),
        "a put after a delete starts a new generation");
    f.assertMatchesModel(1);

    EtcdException future = assertThrows(EtcdException.class, () -> f.rangeAt(7));
    assertEquals(EtcdError.FUTURE_REV, future.error());
  }

  @Test
  void readersSeeOnlyCommittedRevisions() throws IOException {
    Fixture f = new Fixture("commit");
    f.put("a", "1");
    f.txn(List.<String[]>of(new String[] {"a", "2"}), List.of());
    assertEquals(2, f.store.committedRevision());
    assertEquals("1", f.store.read().range(bs("a"), ByteString.EMPTY, 0, 0, false).kvs().get(0).getValue()
        .toStringUtf8());
    f.commit();
    assertEquals(3, f.store.read().rev());
    f.assertMatchesModel(1);
  }

  @Test
  void randomHistoryMatchesTheModelAtEveryRevision() throws IOException {
    Fixture f = new Fixture("random");
    f.randomHistory(42, 300);
    f.assertMatchesModel(1);
  }

  @Test
  void compactionKeepsTheLatestRevisionOfEachLiveKeyAndNothingElse() throws IOException {
    Fixture f = new Fixture("compact");
    f.randomHistory(7, 200);
    long compacted = f.store.committedRevision() / 2;
    List<List<KeyValue>> before = new ArrayList<>();
    for (long r = compacted; r <= f.store.committedRevision(); r++) {
      before.add(f.rangeAt(r));
    }

    Compaction c = f.store.compact(compacted);
    f.commit();
    assertEquals(compacted, c.revision());
    assertEquals(compacted, f.store.compactRevision());
    c.run();

    f.assertOnlyKeptRecordsAtOrBelow(compacted);
    f.assertCompactedBelow(compacted);
    f.assertMatchesModel(compacted);
    for (long r = compacted; r <= f.store.committedRevision(); r++) {
      assertEquals(before.get((int) (r - compacted)), f.rangeAt(r), "same answer as before compaction at " + r);
    }
    EtcdException again = assertThrows(EtcdException.class, () -> f.store.compact(compacted));
    assertEquals(EtcdError.COMPACTED, again.error());
    EtcdException future = assertThrows(EtcdException.class, () -> f.store.compact(f.store.currentRevision() + 1));
    assertEquals(EtcdError.FUTURE_REV, future.error());

    // writes go on after a compaction, and a later compaction drops more
    f.randomHistory(8, 100);
    f.assertMatchesModel(compacted);
    long later = f.store.committedRevision() - 10;
    f.store.compact(later).run();
    f.commit();
    f.assertOnlyKeptRecordsAtOrBelow(later);
    f.assertCompactedBelow(later);
    f.assertMatchesModel(later);
  }

  @Test
  void compactionAtTheCurrentRevisionKeepsEveryLiveKey() throws IOException {
    Fixture f = new Fixture("current");
    f.put("a", "1");
    f.put("a", "2");
    f.put("b", "1");
    f.delete("b");
    long cur = f.store.currentRevision();
    f.store.compact(cur).run();
    f.commit();
    f.assertOnlyKeptRecordsAtOrBelow(cur);
    assertEquals(1, f.recordsAtOrBelow(cur).size());
    f.assertMatchesModel(cur);
    assertEquals(6, f.put("b", "2"));
    KeyValue b = f.store.read().range(bs("b"), ByteString.EMPTY, 0, 0, false).kvs().get(0);
    assertEquals(List.of(6L, 1L), List.of(b.getCreateRevision(), b.getVersion()));
  }

  @Test
  void writesAfterCompactionAndReopenContinueVersionsAndCreations() throws IOException {
    Fixture f = new Fixture("continue");
    f.put("a", "1");
    f.put("a", "2");
    f.put("a", "3");
    f.put("b", "1");
    f.delete("b");
    f.put("b", "2");
    f.put("b", "3");
    long cur = f.store.currentRevision();
    f.store.compact(cur).run();
    f.commit();
    f.reopen();
    f.put("a", "4");
    f.put("b", "4");
    KeyValue a = f.store.read().range(bs("a"), ByteString.EMPTY, 0, 0, false).kvs().get(0);
    KeyValue b = f.store.read().range(bs("b"), ByteString.EMPTY, 0, 0, false).kvs().get(0);
    assertEquals(List.of(2L, 4L), List.of(a.getCreateRevision(), a.getVersion()));
    assertEquals(List.of(7L, 3L), List.of(b.getCreateRevision(), b.getVersion()));
    f.assertMatchesModel(cur);
  }

  @Test
  void reopenRebuildsAnIndexThatGivesTheSameAnswers() throws IOException {
    Fixture f = new Fixture("reopen");
    f.randomHistory(11, 150);
    f.reopen();
    assertEquals(f.history.lastKey(), f.store.committedRevision());
    f.assertMatchesModel(1);

    long compacted = f.store.committedRevision() - 40;
    f.store.compact(compacted).run();
    f.commit();
    f.randomHistory(12, 60);
    f.assertMatchesModel(compacted);

    f.reopen();
    assertEquals(compacted, f.store.compactRevision());
    assertNull(f.store.unfinishedCompaction());
    f.assertCompactedBelow(compacted);
    f.assertMatchesModel(compacted);

    // and the reopened store goes on writing where it stopped
    f.touchAll("after-reopen");
    f.randomHistory(13, 40);
    f.assertMatchesModel(compacted);
    f.reopen();
    f.assertMatchesModel(compacted);
  }

  @Test
  void compactionResumesAfterACrash() throws IOException {
    Fixture f = new Fixture("resume");
    f.randomHistory(21, 200);
    long compacted = f.store.committedRevision() - 50;
    int recordsBefore = f.recordsAtOrBelow(compacted).size();
    f.store.compact(compacted); // scheduled and committed, never run: the process dies here
    f.commit();

    f.reopen();
    assertEquals(compacted, f.store.compactRevision());
    f.assertCompactedBelow(compacted);
    f.assertMatchesModel(compacted); // the index still holds the old history here
    Compaction resumed = f.store.unfinishedCompaction();
    assertNotNull(resumed, "an unfinished compaction is found at start-up");
    assertEquals(compacted, resumed.revision());
    assertEquals(recordsBefore, f.recordsAtOrBelow(compacted).size(), "nothing removed before it runs");
    assertTrue(recordsBefore > f.expectedAt(compacted).size(), "the history had something to remove");
    f.assertMatchesModel(compacted);
    resumed.run();
    f.assertOnlyKeptRecordsAtOrBelow(compacted);
    f.assertCompactedBelow(compacted);
    f.assertMatchesModel(compacted);

    f.touchAll("after-resume");
    f.assertMatchesModel(compacted);

    f.reopen();
    assertNull(f.store.unfinishedCompaction(), "the finished compaction is not run again");
    f.touchAll("after-reopen");
    f.assertMatchesModel(compacted);
  }

  @Test
  void compactionCutShortMidwayResumesAfterACrash() throws IOException {
    Fixture f = new Fixture("midway");
    f.randomHistory(31, 200);
    long compacted = f.store.committedRevision() - 30;
    f.store.compact(compacted);
    f.commit();
    // the crash came after the first half of the removals reached the disk (they go in revision order)
    List<Object[]> doomed = f.recordsAtOrBelow(compacted).stream().filter(r -> !f.keptBy(compacted, r)).toList();
    try (WriteBatch wb = new WriteBatch()) {
      for (Object[] r : doomed.subList(0, doomed.size() / 2)) {
        f.backend.deleteKv(wb, ((Revision) r[0]).toKey((boolean) r[1]));
      }
      f.backend.write(wb, true);
    }

    f.reopen();
    f.assertMatchesModel(compacted);
    Compaction resumed = f.store.unfinishedCompaction();
    assertNotNull(resumed);
    f.assertMatchesModel(compacted);
    resumed.run();
    f.assertOnlyKeptRecordsAtOrBelow(compacted);
    f.assertMatchesModel(compacted);
    f.touchAll("after-resume");
    f.randomHistory(32, 30);
    f.reopen();
    assertNull(f.store.unfinishedCompaction());
    f.touchAll("after-reopen");
    f.assertMatchesModel(compacted);
  }

  @Test
  void hashKvIsTheSameForTheSameHistory() throws IOException {
    Fixture one = new Fixture("one");
    Fixture two = new Fixture("two");
    Fixture other = new Fixture("other");
    one.randomHistory(5, 120);
    two.randomHistory(5, 120);
    other.randomHistory(5, 119);
    other.put("k0", "different");
    long cur = one.store.committedRevision();
    assertEquals(cur, two.store.committedRevision());
    assertEquals(cur, other.store.committedRevision());

    for (long r : new long[] {0, 2, cur / 2, cur - 1, cur}) {
      assertEquals(one.store.hashKv(r), two.store.hashKv(r), "hashKv at " + r);
    }
    assertEquals(one.store.hashKv(cur - 1).hash(), other.store.hashKv(cur - 1).hash(), "same history up to cur-1");
    assertNotEquals(one.store.hashKv(cur).hash(), other.store.hashKv(cur).hash(), "different last write");
    assertNotEquals(one.store.hashKv(cur / 2).hash(), one.store.hashKv(cur).hash());

    // compaction changes the hash the same way on both, whether or not it has run physically yet
    long compacted = cur / 2;
    MvccStore.Hash beforeCompaction = one.store.hashKv(cur);
    Compaction c1 = one.store.compact(compacted);
    one.commit();
    two.store.compact(compacted).run();
    two.commit();
    MvccStore.Hash scheduled = one.store.hashKv(cur);
    c1.run();
    MvccStore.Hash finished = one.store.hashKv(cur);
    assertEquals(finished, scheduled, "hash while the compaction is pending");
    assertEquals(finished, two.store.hashKv(cur));
    assertEquals(compacted, finished.compactRev());
    assertNotEquals(beforeCompaction.hash(), finished.hash());
    two.reopen();
    assertEquals(finished, two.store.hashKv(cur), "hash after reopening");
    EtcdException e = assertThrows(EtcdException.class, () -> two.store.hashKv(compacted));
    assertEquals(EtcdError.COMPACTED, e.error());
    assertEquals(finished, two.store.hashKv(0));
  }
}
