/**
 * Etcd's v3lock and v3election semantics over the keyspace: locks and elections are keys under a lease,
 * ordered by create revision; waiting on them is driven by the committed events of a {@code CommitFeed}.
 *
 * <p>Owns the coordination recipes the Lock and Election services serve (as etcd's client/v3/concurrency,
 * server side). May depend on {@code apply}, {@code lease} and {@code mvcc}.
 *
 * <p>Thread-safety: every public method may be called from any thread; waits complete on the feed's thread.
 */
package io.dkv.server.concurrency;
