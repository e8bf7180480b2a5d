package io.dkv.controller;

import java.time.Duration;
import java.util.List;

/**
 * Decides how long an item waits before it is retried, as client-go's {@code workqueue.RateLimiter}.
 * Implementations are thread-safe.
 *
 * <pre>{@code
 * RateLimiter<Request> limiter = RateLimiter.maxOf(
 *     RateLimiter.exponential(Duration.ofMillis(5), Duration.ofSeconds(1000)),
 *     RateLimiter.tokenBucket(10, 100));               // = RateLimiter.defaultControllerRateLimiter()
 * }</pre>
 *
 * @param <T> the item type
 */
public interface RateLimiter<T> {

  /** How long {@code item} should wait now; called once per retry (it counts the retry). */
  Duration when(T item);

  /** Forgets {@code item}'s history: its next delay starts from the beginning. */
  void forget(T item);

  /** How many retries of {@code item} this limiter has counted since it was last forgotten. */
  int numRequeues(T item);

  /**
   * Per item: {@code base * 2^(failures)}, capped at {@code max} (client-go's
   * {@code ItemExponentialFailureRateLimiter}).
   */
  static <T> RateLimiter<T> exponential(Duration base, Duration max) {
    return new ExponentialRateLimiter<>(base, max);
  }

  /**
   * Overall: at most {@code perSecond} retries a second on average, with bursts of up to {@code burst}; the
   * delay is the time until a token is free for this retry (client-go's {@code BucketRateLimiter}).
   */
  static <T> RateLimiter<T> tokenBucket(double perSecond, int burst) {
    return new TokenBucketRateLimiter<>(perSecond, burst, System::nanoTime);
  }

  /** The longest delay of {@code limiters} (each one counts every retry). */
  @SafeVarargs
  static <T> RateLimiter<T> maxOf(RateLimiter<T>... limiters) {
    return new MaxOfRateLimiter<>(List.of(limiters));
  }

  /** {@code fast} for the first {@code maxFastAttempts} retries of an item, then {@code slow}. */
  static <T> RateLimiter<T> fastSlow(Duration fast, Duration slow, int maxFastAttempts) {
    return new FastSlowRateLimiter<>(fast, slow, maxFastAttempts);
  }

  /**
   * client-go's default: the larger of a per-item exponential backoff from 5 ms to 1000 s and an overall token
   * bucket of 10 retries a second with bursts of 100.
   */
  static <T> RateLimiter<T> defaultControllerRateLimiter() {
    return maxOf(exponential(Duration.ofMillis(5), Duration.ofSeconds(1000)), tokenBucket(10, 100));
  }
}
