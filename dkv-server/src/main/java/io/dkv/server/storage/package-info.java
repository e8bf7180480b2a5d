/**
 * Durable storage over RocksDB, with etcd's buckets as column families ({@code kv}, {@code meta},
 * {@code lease}): atomic write batches, synced on request, snapshot scans, and the one-line errors a user meets
 * when a data directory cannot be created or is held by another server.
 *
 * <p>Owns the bytes on disk and the directory's lock; knows nothing of what the records mean. Depends on no
 * other package of dkv-server.
 *
 * <p>Thread-safety: every method is thread-safe; a {@code WriteBatch} is filled by one thread.
 */
package io.dkv.server.storage;
