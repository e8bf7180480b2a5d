package io.dkv.client;

/**
 * A held {@link DistributedLock}. Its {@link #fencingToken()} (the lock key and its create revision) grows with
 * every acquisition, so a resource can refuse a stale owner; writes through {@link #put} and {@link #delete} are
 * applied only while this lock key still exists with that token, and are {@linkplain FencedWrite#rejected()
 * rejected} otherwise.
 *
 * <pre>{@code
 * try (LockHandle h = client.lock("locks/orders", Duration.ofSeconds(10)).acquire()) {
 *   FencedWrite w = h.put("orders/next", "42");
 * } // released
 * }</pre>
 */
public final class LockHandle implements AutoCloseable {

  private final DkvClient client;
  private final FencingToken token;
  private final Lease lease;

  LockHandle(DkvClient client, String key, long token, Lease lease) {
    this.client = client;
    this.token = new FencingToken(key, token);
    this.lease = lease;
  }

  /** The lock key (the lock's name, a slash, the owner's lease id in hex). */
  public String key() {
    return token.key();
  }

  /** The lock key and its create revision: the revision is larger for every later holder of the lock. */
  public FencingToken fencingToken() {
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
  public FencedWrite put(String key, String value) {
    return token.put(client, key, value);
  }

  /** Writes {@code value} under {@code key} only while the lock is held. */
  public <T> FencedWrite put(String key, T value, Codec<T> codec) {
    return token.put(client, key, value, codec);
  }

  /** Deletes {@code key} only while the lock is held. */
  public FencedWrite delete(String key) {
    return token.delete(client, key);
  }

  /** Releases the lock: deletes its key and revokes its lease. */
  public void release() {
    try {
      if (lease.isAlive()) {
        token.delete(client, token.key());
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
