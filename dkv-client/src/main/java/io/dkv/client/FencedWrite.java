package io.dkv.client;

/**
 * The outcome of a write fenced by a {@link FencingToken} (a held lock, a leadership): it was applied only if the
 * token's key still existed with the token's revision, that is while the lock was held or the leadership lasted.
 *
 * <pre>{@code
 * FencedWrite w = handle.put("orders/1/state", "shipped");
 * if (w.rejected()) {
 *   abort(); // the lock (or leadership) is lost: someone else may hold it now; nothing was written
 * }
 * }</pre>
 *
 * @param applied  whether the write was applied
 * @param revision the revision of the write when applied; the store's revision when it was rejected
 */
public record FencedWrite(boolean applied, long revision) {

  /** Whether the write was refused because the token no longer holds (nothing was written). */
  public boolean rejected() {
    return !applied;
  }
}
