package io.dkv.controller;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * An overall token bucket: each retry reserves a token; tokens may be reserved ahead (the count goes
 * negative), and the delay is the time until the reserved token is refilled, like Go's
 * {@code rate.Limiter.Reserve().Delay()}.
 */
final class TokenBucketRateLimiter<T> implements RateLimiter<T> {

  private final double perNano;
  private final int burst;
  private final LongSupplier clock;
  private double tokens;
  private long last;

  TokenBucketRateLimiter(double perSecond, int burst, LongSupplier nanoClock) {
    if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
      throw new IllegalArgumentException("perSecond must be a positive number, got " + perSecond);
    }
    if (burst <= 0) {
      throw new IllegalArgumentException("burst must be positive, got " + burst);
    }
    this.perNano = perSecond / 1e9;
    this.burst = burst;
    this.clock = nanoClock;
    this.tokens = burst;
    this.last = nanoClock.getAsLong();
  }

  @Override
  public synchronized Duration when(T item) {
    long now = clock.getAsLong();
    tokens = Math.min(burst, tokens + (now - last) * perNano);
    last = now;
    tokens -= 1;
    if (tokens >= 0) {
      return Duration.ZERO;
    }
    return Duration.ofNanos((long) Math.ceil(-tokens / perNano));
  }

  @Override
  public void forget(T item) {}

  @Override
  public int numRequeues(T item) {
    return 0;
  }
}
