package io.dkv.server.mvcc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KeyValue;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multi-version keyspace: every key's history by revision, over {@link Backend}.
 *
 * <p>One writer thread calls {@link #write()}, {@link #compact} and {@link #commit}; any thread reads with
 * {@link #range}, which sees exactly the state at the last committed (durable) revision. Readers take no
 * lock against the writer.
 */
public final class MvccStore {

  private static final Logger log = LoggerFactory.getLogger(MvccStore.class);

  static final String META_CURRENT_REV = "currentRev";
  static final String META_APPLIED_INDEX = "raftAppliedIndex";
  static final String META_APPLIED_TERM = "raftAppliedTerm";
  static final String META_SCHEDULED_COMPACT = "scheduledCompactRev";
  static final String META_FINISHED_COMPACT = "finishedCompactRev";

  private final Backend backend;
  private volatile TreeIndex index = new TreeIndex();

  private volatile long committedRev;
  private volatile long compactRev;
  private volatile long appliedIndex;
  private volatile long appliedTerm;

  // writer state
  private long currentRev;
  private final Map<Revision, KeyValue> pending = new HashMap<>();
  private List<Event> batchEvents = new ArrayList<>();
  private WriteBatch batch = new WriteBatch();

  private MvccStore(Backend backend) {
    this.backend = backend;
  }

  /**
   * Opens the keyspace stored in {@code backend}, rebuilding the index from the stored history. A compaction
   * that a crash interrupted is returned, to be finished with {@link Compaction#run}.
   */
  public static MvccStore open(Backend backend) {
    MvccStore s = new MvccStore(backend);
    s.load();
    return s;
  }

  /**
   * Reads the whole state again from the backend, after {@link Backend#replaceWith} put another member's state
   * in place (writer thread, between two commits). Readers meanwhile see the old state or the new one.
   */
  public void reload() {
    pending.clear();
    batchEvents = new ArrayList<>();
    load();
  }

  private void load() {
    TreeIndex fresh = new TreeIndex();
    long[] restored = {0};
    backend.scanKv(Revision.startKey(0), null, (k, v) -> {
      restore(fresh, Revision.fromKey(k), Revision.isTombstone(k), parse(v));
      restored[0]++;
      return true;
    });
    currentRev = backend.getMeta(META_CURRENT_REV, 1);
    appliedIndex = backend.getMeta(META_APPLIED_INDEX, 0);
    appliedTerm = backend.getMeta(META_APPLIED_TERM, 0);
    compactRev = backend.getMeta(META_SCHEDULED_COMPACT, -1);
    index = fresh;
    committedRev = currentRev;
    log.info("restored {} revisions of {} keys; current revision {}, compacted at {}",
        restored[0], fresh.size(), currentRev, compactRev);
  }

  private static void restore(TreeIndex index, Revision rev, boolean tombstone, KeyValue kv) {
    KeyIndex ki = index.get(kv.getKey());
    if (tombstone) {
      if (ki != null && ki.isLive()) {
        ki.tombstone(rev);
      }
    } else if (ki == null) {
      index.getOrCreate(kv.getKey()).restore(kv.getCreateRevision(), rev, kv.getVersion());
    } else {
      ki.put(rev);
    }
  }

  /** A compaction scheduled but not finished before the last stop, or null. */
  public Compaction unfinishedCompaction() {
    long scheduled = backend.getMeta(META_SCHEDULED_COMPACT, -1);
    long finished = backend.getMeta(META_FINISHED_COMPACT, -1);
    if (scheduled <= finished) {
      return null;
    }
    log.info("resuming compaction at revision {}", scheduled);
    return new Compaction(backend, scheduled, index.compact(scheduled));
  }

  /** The last durable revision: what readers see. */
  public long committedRevision() {
    return committedRev;
  }

  /** Revisions below this are gone; -1 if never compacted. */
  public long compactRevision() {
    return compactRev;
  }

  /** The Raft log index of the last command whose effect is committed here (0: none). */
  public long appliedIndex() {
    return appliedIndex;
  }

  /** The Raft term of the entry at {@link #appliedIndex()}. */
  public long appliedTerm() {
    return appliedTerm;
  }

  /**
   * A view of the last committed revision. Its ranges return at most {@code limit} keys (0: all) of [key,
   * end) as of the revision asked for, and their total count; {@code end} follows etcd: empty means the
   * single key, "\0" every key from {@code key} on.
   */
  public ReadView read() {
    long cur = committedRev;
    return new ReadView() {
      @Override
      public long rev() {
        return cur;
      }

      @Override
      public long firstRev() {
        return compactRev;
      }

      @Override
      public RangeResult range(ByteString key, ByteString end, long limit, long atRev, boolean countOnly) {
        return rangeAt(key, end, limit, atRev, countOnly, cur, false);
      }
    };
  }

  private void checkRevision(long rev, long curRev) {
    if (rev > curRev) {
      throw EtcdError.FUTURE_REV.exception();
    }
    if (rev < compactRev) {
      throw EtcdError.COMPACTED.exception();
    }
  }

  private RangeResult rangeAt(ByteString key, ByteString end, long limit, long rev, boolean countOnly,
      long curRev, boolean writer) {
    long atRev = rev <= 0 ? curRev : rev;
    checkRevision(atRev, curRev);
    int[] total = new int[1];
    List<TreeIndex.Entry> entries = index.range(key, end, atRev, countOnly ? -1 : limit, total);
    List<KeyValue> kvs = countOnly ? List.of() : values(entries, writer);
    if (!writer) {
      // a compaction that began while we read may have removed what we looked at
      VarHandle.acquireFence();
      if (atRev < compactRev) {
        throw EtcdError.COMPACTED.exception();
      }
    }
    return new RangeResult(kvs, total[0], curRev);
  }

  private List<KeyValue> values(List<TreeIndex.Entry> entries, boolean writer) {
    List<KeyValue> out = new ArrayList<>(entries.size());
    List<byte[]> keys = new ArrayList<>(entries.size());
    List<Integer> slots = new ArrayList<>();
    for (TreeIndex.Entry e : entries) {
      Revision r = e.found().modified();
      KeyValue kv = writer ? pending.get(r) : null;
      out.add(kv);
      if (kv == null) {
        keys.add(r.toKey(false));
        slots.add(out.size() - 1);
      }
    }
    if (!keys.isEmpty()) {
      List<byte[]> raw = keys.size() == 1 ? List.of(nonNull(backend.getKv(keys.get(0)))) : backend.multiGetKv(keys);
      for (int i = 0; i < raw.size(); i++) {
        out.set(slots.get(i), parse(nonNull(raw.get(i))));
      }
    }
    return out;
  }

  private static byte[] nonNull(byte[] v) {
    if (v == null) {
      throw EtcdError.COMPACTED.exception(); // removed by a concurrent compaction
    }
    return v;
  }

  static KeyValue parse(byte[] v) {
    try {
      return KeyValue.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt key-value record", e);
    }
  }

  /** The revision of the last write applied, committed or not (writer thread only). */
  public long currentRevision() {
    return currentRev;
  }

  /** The batch the next {@link #commit} writes, for records kept beside the keyspace (writer thread only). */
  public WriteBatch batch() {
    return batch;
  }

  /** The events written since the last commit, from the {@code from}-th on (writer thread only). */
  public List<Event> uncommittedEvents(int from) {
    return batchEvents.subList(from, batchEvents.size());
  }

  /** How many events were written since the last commit (writer thread only). */
  public int uncommittedEventCount() {
    return batchEvents.size();
  }

  /** Starts a write transaction (writer thread only); all its changes share one main revision. */
  public WriteTxn write() {
    return new WriteTxn(currentRev);
  }

  /**
   * Compacts the history at {@code rev} (writer thread only): readers below {@code rev} fail from now on and
   * the index forgets it at once; the returned compaction removes it from storage after {@link #commit}.
   */
  public Compaction compact(long rev) {
    if (rev <= compactRev) {
      throw EtcdError.COMPACTED.exception();
    }
    if (rev > currentRev) {
      throw EtcdError.FUTURE_REV.exception();
    }
    compactRev = rev;
    backend.putMeta(batch, META_SCHEDULED_COMPACT, rev);
    Set<Revision> keep = index.compact(rev);
    return new Compaction(backend, rev, keep);
  }

  /** A hash of the history up to a revision, and the revisions it was taken at. */
  public record Hash(int hash, long compactRev, long currentRev) {}

  /**
   * Etcd's HashKV: a CRC-32C of the {@code kv} records from the compaction up to {@code rev} (0: current),
   * in etcd's storage format, so two stores with the same history have the same hash.
   */
  public Hash hashKv(long rev) {
    long cur = committedRev;
    long compacted = compactRev;
    if (rev > 0 && rev <= compacted) {
      throw EtcdError.COMPACTED.exception();
    }
    if (rev > cur) {
      throw EtcdError.FUTURE_REV.exception();
    }
    long upTo = rev == 0 ? cur : rev;
    CRC32C crc = new CRC32C();
    crc.update("key".getBytes(StandardCharsets.UTF_8));
    if (upTo <= 0) {
      return new Hash((int) crc.getValue(), compacted, cur); // etcd: a negative revision hashes no record
    }
    // as etcd: below the compaction, only what a compaction at the hashed revision would keep
    Set<Revision> keep = index.keep(upTo);
    backend.scanKv(Revision.startKey(0), Revision.startKey(upTo + 1), (k, v) -> {
      Revision r = Revision.fromKey(k);
      if (r.main() > compacted || keep.isEmpty() || keep.contains(r)) {
        crc.update(k);
        crc.update(v);
      }
      return true;
    });
    return new Hash((int) crc.getValue(), compacted, cur);
  }

  /** A CRC-32C of every stored record (etcd's Hash hashes its whole database file). */
  public Hash hashAll() {
    long cur = committedRev;
    CRC32C crc = new CRC32C();
    backend.scanKv(Revision.startKey(0), null, (k, v) -> {
      crc.update(k);
      crc.update(v);
      return true;
    });
    return new Hash((int) crc.getValue(), compactRev, cur);
  }

  /**
   * Writes everything written since the last commit in one atomic batch together with the Raft log position
   * ({@code index}, {@code term}) of the last command it holds, then publishes it to readers (writer thread
   * only). The batch is not synced: the Raft log is the durable record, and after a crash the commands after
   * the stored position are applied again from it. Returns the events of the writes committed, in revision
   * order.
   */
  public List<Event> commit(long index, long term) {
    appliedIndex = index;
    appliedTerm = term;
    backend.putMeta(batch, META_CURRENT_REV, currentRev);
    backend.putMeta(batch, META_APPLIED_INDEX, index);
    backend.putMeta(batch, META_APPLIED_TERM, term);
    try (WriteBatch b = batch) {
      batch = new WriteBatch();
      backend.write(b, false);
    }
    pending.clear();
    committedRev = currentRev;
    List<Event> events = batchEvents;
    batchEvents = new ArrayList<>();
    return events;
  }

  /**
   * The events of revisions [fromRev, toRev] as stored, in revision order, given to {@code visitor} until
   * it returns false. A deletion comes as etcd sends it: a DELETE whose kv has only the key and the
   * revision. The caller checks {@link #compactRevision()} afterwards: history below it may be missing.
   */
  public void history(long fromRev, long toRev, java.util.function.Predicate<Event> visitor) {
    backend.scanKv(Revision.startKey(fromRev), Revision.startKey(toRev + 1),
        (k, v) -> visitor.test(toEvent(Revision.fromKey(k), Revision.isTombstone(k), parse(v))));
  }

  private static Event toEvent(Revision r, boolean tombstone, KeyValue kv) {
    return tombstone
        ? Event.newBuilder().setType(Event.EventType.DELETE)
            .setKv(KeyValue.newBuilder().setKey(kv.getKey()).setModRevision(r.main())).build()
        : Event.newBuilder().setType(Event.EventType.PUT).setKv(kv).build();
  }

  /** Current state of a key in the writer's view, or null if it does not exist. */
  private KeyIndex.Found live(ByteString key, long atRev) {
    KeyIndex ki = index.get(key);
    return ki == null ? null : ki.get(atRev);
  }

  /**
   * A write transaction: reads see the store plus the transaction's own writes; every change gets the next
   * sub revision of one main revision. Not thread-safe; writer thread only.
   */
  public final class WriteTxn implements ReadView {
    private final long beginRev;
    private long changes;

    private WriteTxn(long beginRev) {
      this.beginRev = beginRev;
    }

    /** The revision this transaction's reads see: the store's, or its own once it has changed anything. */
    @Override
    public long rev() {
      return changes > 0 ? beginRev + 1 : beginRev;
    }

    public boolean changed() {
      return changes > 0;
    }

    @Override
    public long firstRev() {
      return compactRev;
    }

    @Override
    public RangeResult range(ByteString key, ByteString end, long limit, long atRev, boolean countOnly) {
      return rangeAt(key, end, limit, atRev, countOnly, rev(), true);
    }

    /** Writes {@code value} to {@code key}; returns the revision of the write. */
    public long put(ByteString key, ByteString value, long lease) {
      long main = beginRev + 1;
      Revision r = new Revision(main, changes);
      KeyIndex.Found prev = live(key, main);
      KeyValue kv = KeyValue.newBuilder()
          .setKey(key)
          .setValue(value)
          .setCreateRevision(prev == null ? main : prev.createdMain())
          .setModRevision(main)
          .setVersion(prev == null ? 1 : prev.version() + 1)
          .setLease(lease)
          .build();
      record(r, false, kv);
      index.getOrCreate(key).put(r);
      return main;
    }

    /** Deletes the keys in [key, end); returns how many there were. */
    public long deleteRange(ByteString key, ByteString end) {
      long main = beginRev + 1;
      List<TreeIndex.Entry> live = index.range(key, end, main, 0, new int[1]);
      for (TreeIndex.Entry e : live) {
        Revision r = new Revision(main, changes);
        record(r, true, KeyValue.newBuilder().setKey(e.key()).build());
        index.get(e.key()).tombstone(r);
      }
      return live.size();
    }

    private void record(Revision r, boolean tombstone, KeyValue kv) {
      backend.putKv(batch, r.toKey(tombstone), kv.toByteArray());
      batchEvents.add(toEvent(r, tombstone, kv));
      if (!tombstone) {
        pending.put(r, kv);
      }
      changes++;
    }

    /** Ends the transaction; its changes become part of the next {@link #commit}. */
    public void end() {
      if (changes > 0) {
        currentRev = beginRev + 1;
      }
    }
  }
}
