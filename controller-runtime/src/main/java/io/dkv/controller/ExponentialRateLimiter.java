package io.dkv.controller;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/** Per-item exponential backoff. */
final class ExponentialRateLimiter<T> implements RateLimiter<T> {

  private final long baseNanos;
  private final long maxNanos;
  private final ConcurrentHashMap<T, Integer> failures = new ConcurrentHashMap<>();

  ExponentialRateLimiter(Duration base, Duration max) {
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(max, "max");
    if (base.isNegative() || base.isZero()) {
      throw new IllegalArgumentException("base delay must be positive, got " + base);
    }
    if (max.compareTo(base) < 0) {
      throw new IllegalArgumentException("max delay " + max + " is below the base delay " + base);
    }
    this.baseNanos = base.toNanos();
    this.maxNanos = max.toNanos();
  }

  @Override
  public Duration when(T item) {
    int exp = failures.merge(item, 1, Integer::sum) - 1;
    // base * 2^exp, without overflowing: once it would pass max, it is max
    if (exp >= 63 || baseNanos > (maxNanos >> exp)) {
      return Duration.ofNanos(maxNanos);
    }
    return Duration.ofNanos(Math.min(maxNanos, baseNanos << exp));
  }

  @Override
  public void forget(T item) {
    failures.remove(item);
  }

  @Override
  public int numRequeues(T item) {
    return failures.getOrDefault(item, 0);
  }
}
