package io.dkv.informer;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: the n-th consecutive retry waits a random time in
 * [0, min(max, initial * 2^n)], so many clients that failed together come back spread out.
 */
final class Backoff {
  private final long initialNanos;
  private final long maxNanos;
  private int failures;

  Backoff(Duration initial, Duration max) {
    this.initialNanos = initial.toNanos();
    this.maxNanos = max.toNanos();
  }

  /** The delay before the next retry; each call doubles the ceiling until the maximum. */
  synchronized Duration next() {
    long ceiling = ceiling();
    failures = Math.min(failures + 1, 62);
    return Duration.ofNanos(ThreadLocalRandom.current().nextLong(ceiling + 1));
  }

  /** The current ceiling of the delay. */
  synchronized long ceiling() {
    long c = initialNanos;
    for (int i = 0; i < failures && c < maxNanos; i++) {
      c = c > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : c * 2;
    }
    return Math.min(c, maxNanos);
  }

  /**
   * After a watch that stayed open {@code livedNanos}: resets if it lived at least the current ceiling. So a
   * watch closed now and then (a proxy's idle timeout) is reopened quickly, while a server that accepts watches
   * and drops them at once sees the delays grow until they exceed how long its watches live.
   */
  synchronized void lived(long livedNanos) {
    if (livedNanos >= ceiling()) {
      failures = 0;
    }
  }

  /** After a success: the next retry starts from the initial delay again. */
  synchronized void reset() {
    failures = 0;
  }
}
