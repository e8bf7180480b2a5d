package io.dkv.controller;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Options of a {@link WorkQueue}; get one from {@link WorkQueue#builder()}.
 *
 * @param <T> the item type
 */
public final class WorkQueueBuilder<T> {

  private static final AtomicInteger UNNAMED = new AtomicInteger();

  String name;
  RateLimiter<T> rateLimiter;
  MeterRegistry meterRegistry = Metrics.globalRegistry;

  WorkQueueBuilder() {}

  /**
   * The queue's name: the {@code name} tag of its metrics and part of its timer thread's name (default
   * {@code queue-<n>}). Keep it unique within a meter registry: a second queue of the same name shares the first
   * one's counters and timers, and its gauges are not registered.
   */
  public WorkQueueBuilder<T> name(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    this.name = name;
    return this;
  }

  /** How {@link RateLimitingQueue#addRateLimited} delays items (default {@link RateLimiter#defaultControllerRateLimiter()}). */
  public WorkQueueBuilder<T> rateLimiter(RateLimiter<T> rateLimiter) {
    this.rateLimiter = Objects.requireNonNull(rateLimiter, "rateLimiter");
    return this;
  }

  /** Where the queue's metrics go (default Micrometer's global registry); null for none. */
  public WorkQueueBuilder<T> meterRegistry(MeterRegistry registry) {
    this.meterRegistry = registry;
    return this;
  }

  /** A new, running queue. */
  public RateLimitingQueue<T> build() {
    String n = name != null ? name : "queue-" + UNNAMED.incrementAndGet();
    RateLimiter<T> limiter = rateLimiter != null ? rateLimiter : RateLimiter.defaultControllerRateLimiter();
    return new DefaultWorkQueue<>(n, limiter, meterRegistry);
  }
}
