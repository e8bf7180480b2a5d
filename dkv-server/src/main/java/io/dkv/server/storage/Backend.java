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

  private final Path dir;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions cfOptions;
  private final WriteOptions syncWrite = new WriteOptions().setSync(true);
  private final WriteOptions noSyncWrite = new WriteOptions();
  /** Held (shared) by every use of the database, exclusively while {@link #replaceWith} swaps it. */
  private final java.util.concurrent.locks.ReentrantReadWriteLock lock =
      new java.util.concurrent.locks.ReentrantReadWriteLock();
  private RocksDB db;
  private ColumnFamilyHandle defaultCf;
  private ColumnFamilyHandle kv;
  private ColumnFamilyHandle meta;
  private ColumnFamilyHandle lease;

  private Backend(Path dir) throws RocksDBException {
    this.dir = dir;
    dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
        .setRecycleLogFileNum(4).setKeepLogFileNum(4).setMaxBackgroundJobs(2);
    cfOptions = new ColumnFamilyOptions().optimizeLevelStyleCompaction();
    try {
      openDb();
    } catch (RocksDBException | RuntimeException e) {
      syncWrite.close();
      noSyncWrite.close();
      cfOptions.close();
      dbOptions.close();
      throw e;
    }
  }

  private void openDb() throws RocksDBException {
    List<ColumnFamilyDescriptor> descriptors = List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
        new ColumnFamilyDescriptor(KV, cfOptions),
        new ColumnFamilyDescriptor(META, cfOptions),
        new ColumnFamilyDescriptor(LEASE, cfOptions));
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    defaultCf = handles.get(0);
    kv = handles.get(1);
    meta = handles.get(2);
    lease = handles.get(3);
  }

  private void closeDb() {
    try {
      db.syncWal();
    } catch (RocksDBException e) {
      // closing anyway; what matters is in the Raft log
    }
    for (ColumnFamilyHandle h : List.of(kv, meta, lease, defaultCf)) {
      h.close();
    }
    db.close();
  }

  private static final String REPLACING = ".replacing";
  private static final String REPLACED = ".replaced";

  /**
   * Creates a consistent copy of the store in {@code target} (which must not exist): RocksDB's checkpoint, its
   * table files hard links (they are never modified), the rest copied.
   */
  public void checkpoint(Path target) {
    lock.readLock().lock();
    try (org.rocksdb.Checkpoint c = org.rocksdb.Checkpoint.create(db)) {
      c.createCheckpoint(target.toString());
    } catch (RocksDBException e) {
      throw new StorageException(e);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Replaces the whole store by the checkpoint in {@code source} (another member's state, installed from its
   * snapshot), crash-safely: the copy is made beside the store ({@code <dir>.replacing}), then swapped in by
   * renames, which {@link #open} completes if a crash interrupts them. Readers wait while the swap runs.
   */
  public void replaceWith(Path source) throws IOException {
    Path next = dir.resolveSibling(dir.getFileName() + REPLACING);
    Path old = dir.resolveSibling(dir.getFileName() + REPLACED);
    deleteTree(next);
    copyCheckpoint(source, next);
    lock.writeLock().lock();
    try {
      closeDb();
      deleteTree(old);
      Files.move(dir, old);
      Files.move(next, dir);
      openDb();
    } catch (RocksDBException e) {
      throw new StorageException(e);
    } finally {
      lock.writeLock().unlock();
    }
    deleteTree(old);
  }

  /** Copies a checkpoint: table files (immutable) as hard links, everything else (RocksDB rewrites it) copied. */
  private static void copyCheckpoint(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        Path t = to.resolve(f.getFileName());
        if (f.getFileName().toString().endsWith(".sst")) {
          Files.createLink(t, f);
        } else {
          Files.copy(f, t);
        }
      }
    }
  }

  /** Finishes a {@link #replaceWith} that a crash interrupted: the complete copy takes the store's place. */
  private static void finishReplacement(Path dir) throws IOException {
    Path next = dir.resolveSibling(dir.getFileName() + REPLACING);
    Path old = dir.resolveSibling(dir.getFileName() + REPLACED);
    if (!Files.exists(dir) && Files.exists(next) && Files.exists(old)) {
      Files.move(next, dir); // crashed between the two renames: the copy was complete
    }
    deleteTree(next); // an incomplete copy
    deleteTree(old);
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  /**
   * Opens (creating if needed) the store in {@code dir}. Fails with a one-line message naming the directory
   * when it cannot be created or written, or when another process (another dkv-server) holds its lock.
   */
  public static Backend open(Path dir) throws IOException {
    finishReplacement(dir);
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
    lock.readLock().lock();
    try {
      try {
        return db.get(kv, revKey);
      } catch (RocksDBException e) {
        throw new StorageException(e);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Values for many revision keys at once, in the same order (null where absent). */
  public List<byte[]> multiGetKv(List<byte[]> revKeys) {
    lock.readLock().lock();
    try {
      try {
        List<ColumnFamilyHandle> cfs = new ArrayList<>(revKeys.size());
        for (int i = 0; i < revKeys.size(); i++) {
          cfs.add(kv);
        }
        return db.multiGetAsList(cfs, revKeys);
      } catch (RocksDBException e) {
        throw new StorageException(e);
      }
    } finally {
      lock.readLock().unlock();
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

  /** Deletes a meta record in {@code batch}. */
  public void deleteMeta(WriteBatch batch, String name) {
    try {
      batch.delete(meta, name.getBytes(StandardCharsets.UTF_8));
    } catch (RocksDBException e) {
      throw new StorageException(e);
    }
  }

  /** Visits every meta record whose name starts with {@code prefix} (name, value), in name order. */
  public void scanMeta(String prefix, java.util.function.BiConsumer<String, byte[]> visitor) {
    lock.readLock().lock();
    try {
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
    } finally {
      lock.readLock().unlock();
    }
  }

  /** A meta value, or {@code absent} if never written. */
  public long getMeta(String name, long absent) {
    lock.readLock().lock();
    try {
      try {
        byte[] v = db.get(meta, name.getBytes(StandardCharsets.UTF_8));
        return v == null ? absent : ByteBuffer.wrap(v).getLong();
      } catch (RocksDBException e) {
        throw new StorageException(e);
      }
    } finally {
      lock.readLock().unlock();
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
    lock.readLock().lock();
    try {
      try (RocksIterator it = db.newIterator(lease)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          visitor.accept(it.value(), ByteBuffer.wrap(it.key()).getLong());
        }
        it.status();
      } catch (RocksDBException e) {
        throw new StorageException(e);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Writes the batch atomically; with {@code sync}, returns only once it is on stable storage. */
  public void write(WriteBatch batch, boolean sync) {
    lock.readLock().lock();
    try {
      try {
        db.write(sync ? syncWrite : noSyncWrite, batch);
      } catch (RocksDBException e) {
        throw new StorageException(e);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Visits the {@code kv} entries with revision keys in [from, to) in revision order, on a consistent
   * snapshot; stops early when the visitor returns false.
   */
  public void scanKv(byte[] from, byte[] to, KvVisitor visitor) {
    lock.readLock().lock();
    try {
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
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Visits one {@code kv} entry; returns false to stop. */
  @FunctionalInterface
  public interface KvVisitor {
    boolean visit(byte[] revKey, byte[] value);
  }

  /** Makes everything written so far durable: the memory tables flushed to synced files, the WAL synced. */
  public void flush() {
    lock.readLock().lock();
    try {
      try (org.rocksdb.FlushOptions o = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
        db.flush(o, List.of(kv, meta, lease));
        db.syncWal();
      } catch (RocksDBException e) {
        throw new StorageException(e);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Rewrites the data files, dropping deleted entries (etcd's defragment). */
  public void defragment() {
    lock.readLock().lock();
    try {
      try (CompactRangeOptions o = new CompactRangeOptions()
          .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce)) {
        for (ColumnFamilyHandle cf : List.of(kv, meta, lease)) {
          db.compactRange(cf, null, null, o);
        }
      } catch (RocksDBException e) {
        throw new StorageException(e);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Approximate bytes on disk and in memory tables. */
  public long size() {
    lock.readLock().lock();
    try {
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
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      closeDb();
    } finally {
      lock.writeLock().unlock();
    }
    syncWrite.close();
    noSyncWrite.close();
    cfOptions.close();
    dbOptions.close();
  }
}
