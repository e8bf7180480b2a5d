/**
 * The multi-version keyspace: {@code Revision}s, each key's generations ({@code KeyIndex}) in a
 * {@code TreeIndex}, the {@code MvccStore} over the storage backend, and {@code Compaction}. Also the kinds of
 * etcd error a request fails with inside the server ({@code EtcdError}, thrown as {@code EtcdException});
 * their gRPC statuses are the API's concern.
 *
 * <p>Owns the history: what every key was at every revision not compacted, and the revision readers see (the
 * last committed, durable one). May depend on {@code storage} only; it knows nothing of gRPC.
 *
 * <p>Thread-safety: one writer thread writes, compacts and commits; any thread reads, without locks, at the
 * committed revision.
 */
package io.dkv.server.mvcc;
