package io.dkv.controller;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/** A fast delay for the first attempts of an item, then a slow one. */
final class FastSlowRateLimiter<T> implements RateLimiter<T> {

  private final Duration fast;
  private final Duration slow;
  private final int maxFastAttempts;
  private final ConcurrentHashMap<T, Integer> attempts = new ConcurrentHashMap<>();

  FastSlowRateLimiter(Duration fast, Duration slow, int maxFastAttempts) {
    this.fast = Objects.requireNonNull(fast, "fast");
    this.slow = Objects.requireNonNull(slow, "slow");
    if (fast.isNegative() || slow.isNegative()) {
      throw new IllegalArgumentException("delays must not be negative, got fast " + fast + ", slow " + slow);
    }
    if (maxFastAttempts < 0) {
      throw new IllegalArgumentException("maxFastAttempts must not be negative, got " + maxFastAttempts);
    }
    this.maxFastAttempts = maxFastAttempts;
  }

  @Override
  public Duration when(T item) {
    return attempts.merge(item, 1, Integer::sum) <= maxFastAttempts ? fast : slow;
  }

  @Override
  public void forget(T item) {
    attempts.remove(item);
  }

  @Override
  public int numRequeues(T item) {
    return attempts.getOrDefault(item, 0);
  }
}
