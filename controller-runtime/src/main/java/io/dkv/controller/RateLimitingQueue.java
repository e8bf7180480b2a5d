package io.dkv.controller;

/**
 * A {@link DelayingQueue} that adds items back after a delay chosen by a {@link RateLimiter}: the usual way to
 * retry failed work with backoff.
 *
 * @param <T> the item type
 */
public interface RateLimitingQueue<T> extends DelayingQueue<T> {

  /** Adds {@code item} after the delay the rate limiter gives it (counted as a retry). */
  void addRateLimited(T item);

  /** Tells the rate limiter that {@code item} succeeded: its backoff starts over. */
  void forget(T item);

  /** How many times {@code item} has been re-queued through {@link #addRateLimited} since it was last forgotten. */
  int numRequeues(T item);
}
