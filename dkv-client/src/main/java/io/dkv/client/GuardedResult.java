package io.dkv.client;

/**
 * The outcome of a write guarded by a {@link LockHandle}: it was applied only if the lock was still held.
 *
 * <pre>{@code
 * GuardedResult r = handle.put("orders/1/state", "shipped");
 * if (r.lockLost()) {
 *   abort(); // another owner may hold the lock now; nothing was written
 * }
 * }</pre>
 *
 * @param status   {@link Status#OK} or {@link Status#LOCK_LOST}
 * @param revision the revision of the write, or the store's revision when it was rejected
 */
public record GuardedResult(Status status, long revision) {

  /** Whether the write was applied. */
  public enum Status { OK, LOCK_LOST }

  /** Whether the write was applied. */
  public boolean succeeded() {
    return status == Status.OK;
  }

  /** Whether the write was rejected because the lock key no longer exists with the handle's token. */
  public boolean lockLost() {
    return status == Status.LOCK_LOST;
  }
}
