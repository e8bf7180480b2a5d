package io.dkv.client;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;

/**
 * A held {@link DistributedLock}. Its {@link #fencingToken()} (the lock key's create revision) grows with every
 * acquisition, so a resource can refuse a stale owner; writes through {@link #put} and {@link #delete} are
 * applied only while this lock key still exists with that token, and return {@link GuardedResult.Status#LOCK_LOST}
 * otherwise.
 *
 * <pre>{@code
 * try (LockHandle h = client.lock("locks/orders", Duration.ofSeconds(10)).acquire()) {
 *   GuardedResult r = h.put("orders/next", "42");
 * } // released
 * }</pre>
 */
public final class LockHandle implements AutoCloseable {

  private final DkvClient client;
  private final String key;
  private final long token;
  private final Lease lease;

  LockHandle(DkvClient client, String key, long token, Lease lease) {
    this.client = client;
    this.key = key;
    this.token = token;
    this.lease = lease;
  }

  /** The lock key (the lock's name, a slash, the owner's lease id in hex). */
  public String key() {
    return key;
  }

  /** The lock key's create revision: larger for every later holder of the lock. */
  public long fencingToken() {
    return token;
  }

  /** The lease that keeps this lock; when it is lost, so is the lock. */
  public Lease lease() {
    return lease;
  }

  /** Whether the lease still lives (the lock may still be lost to a deletion of its key). */
  public boolean isHeld() {
    return lease.isAlive();
  }

  /** Writes {@code value} (UTF-8) under {@code key} only while the lock is held. */
  public GuardedResult put(String key, String value) {
    return put(key, value, Codec.string());
  }

  /** Writes {@code value} under {@code key} only while the lock is held. */
  public <T> GuardedResult put(String key, T value, Codec<T> codec) {
    return guarded(Op.put(Keys.bytes(key), Keys.bytes(codec.encode(value)), PutOption.DEFAULT));
  }

  /** Deletes {@code key} only while the lock is held. */
  public GuardedResult delete(String key) {
    return guarded(Op.delete(Keys.bytes(key), DeleteOption.DEFAULT));
  }

  private GuardedResult guarded(Op op) {
    ByteSequence lockKey = Keys.bytes(key);
    TxnResponse r = client.await(client.jetcd().getKVClient().txn()
        .If(new Cmp(lockKey, Cmp.Op.EQUAL, CmpTarget.createRevision(token)))
        .Then(op)
        .commit());
    return new GuardedResult(r.isSucceeded() ? GuardedResult.Status.OK : GuardedResult.Status.LOCK_LOST,
        r.getHeader().getRevision());
  }

  /** Releases the lock: deletes its key and revokes its lease. */
  public void release() {
    try {
      if (lease.isAlive()) {
        client.await(client.jetcd().getKVClient().txn()
            .If(new Cmp(Keys.bytes(key), Cmp.Op.EQUAL, CmpTarget.createRevision(token)))
            .Then(Op.delete(Keys.bytes(key), DeleteOption.DEFAULT))
            .commit());
      }
    } finally {
      lease.close();
    }
  }

  /** Same as {@link #release()}. */
  @Override
  public void close() {
    release();
  }
}
