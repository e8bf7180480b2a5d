package io.dkv.server.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Durable storage over RocksDB with etcd's buckets as column families: {@code kv} (encoded revision to
 * serialized {@code mvccpb.KeyValue}), {@code meta} (revisions and ids) and {@code lease}.
 */
public final class Backend implements AutoCloseable {

  static {
    RocksDB.loadLibrary();
  }

  private static final byte[] KV = "kv".getBytes(StandardCharsets.UTF_8);
  private static final byte[] META = "meta".getBytes(StandardCharsets.UTF_8);
  private static final byte[] LEASE = "lease".getBytes(StandardCharsets.UTF_8);

  private final DBOptions dbOptions;
  private final ColumnFamilyOptions cfOptions;
  private final RocksDB db;
  private final ColumnFamilyHandle defaultCf;
  private final ColumnFamilyHandle kv;
  private final ColumnFamilyHandle meta;
  private final ColumnFamilyHandle lease;
  private final WriteOptions syncWrite = new WriteOptions().setSync(true);
  private final WriteOptions noSyncWrite = new WriteOptions();

  private Backend(Path dir) throws RocksDBException {
    dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
        .setRecycleLogFileNum(4).setKeepLogFileNum(4).setMaxBackgroundJobs(2);
    cfOptions = new ColumnFamilyOptions().optimizeLevelStyleCompaction();
    List<ColumnFamilyDescriptor> descriptors = List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
        new ColumnFamilyDescriptor(KV, cfOptions),
        new ColumnFamilyDescriptor(META, cfOptions),
        new ColumnFamilyDescriptor(LEASE, cfOptions));
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    } catch (RocksDBException | RuntimeException e) {
      syncWrite.close();
      noSyncWrite.close();
      cfOptions.close();
      dbOptions.close();
      throw e;
    }
    defaultCf = handles.get(0);
    kv = handles.get(1);
    meta = handles.get(2);
    lease = handles.get(3);
  }

  /**
   * Opens (creating if needed) the store in {@code dir}. Fails with a one-line message naming the directory
   * when it cannot be created or written, or when another process (another dkv-server) holds its lock.
   */
  public static Backend open(Path dir) throws IOException {
    createDirectories(dir);
    try {
      return new Backend(dir);
    } catch (RocksDBException e) {
      String m = String.valueOf(e.getMessage());
      if (m.contains("lock") && (m.contains("Resource temporarily unavailable") || m.contains("No locks available")
          || m.contains("lock hold by current process"))) {
        throw new IOException("data directory " + dir + " is in use by another dkv-server (its LOCK file is held)",
            e);
      }
      if (m.contains("Permission denied")) {
        throw new IOException("cannot open data directory " + dir + ": permission denied", e);
      }
      throw new IOException("cannot open data directory " + dir + ": " + m, e);
    }
  }

  /** Creates {@code dir} and its parents; fails with a one-line message naming it. */
  public static void createDirectories(Path dir) throws IOException {
    try {
      Files.createDirectories(dir);
    } catch (FileSystemException e) {
      throw new IOException("cannot create data directory " + dir + ": " + reason(e), e);
    }
  }

  private static String reason(FileSystemException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileAlreadyExistsException) {
      return e.getFile() + " is not a directory";
    }
    String r = e.getReason();
    String what = r == null ? e.getClass().getSimpleName() : Character.toLowerCase(r.charAt(0)) + r.substring(1);
    return e.getFile() == null ? what : what + " (" + e.getFile() + ")";
  }

  public byte[] getKv(byte[] revKey) {
    try {
      return db.get(kv, revKey);
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Values for many revision keys at once, in the same order (null where absent). */
  public List<byte[]> multiGetKv(List<byte[]> revKeys) {
    try {
      List<ColumnFamilyHandle> cfs = new ArrayList<>(revKeys.size());
      for (int i = 0; i < revKeys.size(); i++) {
        cfs.add(kv);
      }
      return db.multiGetAsList(cfs, revKeys);
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  public void putKv(WriteBatch batch, byte[] revKey, byte[] value) {
    try {
      batch.put(kv, revKey, value);
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  public void deleteKv(WriteBatch batch, byte[] revKey) {
    try {
      batch.delete(kv, revKey);
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  public void putMeta(WriteBatch batch, String name, long value) {
    try {
      batch.put(meta, name.getBytes(StandardCharsets.UTF_8), ByteBuffer.allocate(8).putLong(value).array());
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Stores a meta record of bytes in {@code batch}. */
  public void putMetaBytes(WriteBatch batch, String name, byte[] value) {
    try {
      batch.put(meta, name.getBytes(StandardCharsets.UTF_8), value);
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Visits every meta record whose name starts with {@code prefix} (name, value), in name order. */
  public void scanMeta(String prefix, java.util.function.BiConsumer<String, byte[]> visitor) {
    byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
    try (RocksIterator it = db.newIterator(meta)) {
      for (it.seek(p); it.isValid(); it.next()) {
        String name = new String(it.key(), StandardCharsets.UTF_8);
        if (!name.startsWith(prefix)) {
          break;
        }
        visitor.accept(name, it.value());
      }
      it.status();
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** A meta value, or {@code absent} if never written. */
  public long getMeta(String name, long absent) {
    try {
      byte[] v = db.get(meta, name.getBytes(StandardCharsets.UTF_8));
      return v == null ? absent : ByteBuffer.wrap(v).getLong();
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Stores a lease record (key: the 8-byte big-endian lease id) in {@code batch}. */
  public void putLease(WriteBatch batch, long id, byte[] value) {
    try {
      batch.put(lease, ByteBuffer.allocate(8).putLong(id).array(), value);
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Removes a lease record in {@code batch}. */
  public void deleteLease(WriteBatch batch, long id) {
    try {
      batch.delete(lease, ByteBuffer.allocate(8).putLong(id).array());
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Visits every stored lease record (id, value). */
  public void scanLeases(java.util.function.ObjLongConsumer<byte[]> visitor) {
    try (RocksIterator it = db.newIterator(lease)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        visitor.accept(it.value(), ByteBuffer.wrap(it.key()).getLong());
      }
      it.status();
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Writes the batch atomically; with {@code sync}, returns only once it is on stable storage. */
  public void write(WriteBatch batch, boolean sync) {
    try {
      db.write(sync ? syncWrite : noSyncWrite, batch);
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /**
   * Visits the {@code kv} entries with revision keys in [from, to) in revision order, on a consistent
   * snapshot; stops early when the visitor returns false.
   */
  public void scanKv(byte[] from, byte[] to, KvVisitor visitor) {
    Snapshot snapshot = db.getSnapshot();
    try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot);
         Slice upper = to == null ? null : new Slice(to)) {
      if (upper != null) {
        ro.setIterateUpperBound(upper);
      }
      try (RocksIterator it = db.newIterator(kv, ro)) {
        for (it.seek(from); it.isValid(); it.next()) {
          if (!visitor.visit(it.key(), it.value())) {
            break;
          }
        }
        it.status();
      }
    } catch (RocksDBException e) {
      throw new StorageException(e);
    } finally {
      db.releaseSnapshot(snapshot);
    }
  }

  /** Visits one {@code kv} entry; returns false to stop. */
  @FunctionalInterface
  public interface KvVisitor {
    boolean visit(byte[] revKey, byte[] value);
  }

  /** Makes everything written so far durable: the memory tables flushed to synced files, the WAL synced. */
  public void flush() {
    try (org.rocksdb.FlushOptions o = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
      db.flush(o, List.of(kv, meta, lease));
      db.syncWal();
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Rewrites the data files, dropping deleted entries (etcd's defragment). */
  public void defragment() {
    try (CompactRangeOptions o = new CompactRangeOptions()
        .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce)) {
      for (ColumnFamilyHandle cf : List.of(kv, meta, lease)) {
        db.compactRange(cf, null, null, o);
      }
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Approximate bytes on disk and in memory tables. */
  public long size() {
    try {
      long total = 0;
      for (ColumnFamilyHandle cf : List.of(kv, meta, lease)) {
        total += db.getLongProperty(cf, "rocksdb.total-sst-files-size");
        total += db.getLongProperty(cf, "rocksdb.cur-size-all-mem-tables");
      }
      return total;
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  @Override
  public void close() {
    try {
      db.syncWal();
    } catch (RocksDBException e) {
      // closing anyway; every acknowledged write was synced when it was written
    }
    for (ColumnFamilyHandle h : List.of(kv, meta, lease, defaultCf)) {
      h.close();
    }
    db.close();
    syncWrite.close();
    noSyncWrite.close();
    cfOptions.close();
    dbOptions.close();
  }
}
