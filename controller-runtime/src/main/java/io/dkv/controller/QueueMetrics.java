package io.dkv.controller;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/** client-go's work queue metrics, tagged with the queue's name. */
final class QueueMetrics {

  private final Counter adds;
  private final Counter retries;
  private final Timer queueDuration;
  private final Timer workDuration;

  private QueueMetrics(Counter adds, Counter retries, Timer queueDuration, Timer workDuration) {
    this.adds = adds;
    this.retries = retries;
    this.queueDuration = queueDuration;
    this.workDuration = workDuration;
  }

  /** Registers the queue's meters; null when {@code registry} is null. */
  static QueueMetrics register(MeterRegistry registry, String name, DefaultWorkQueue<?> queue) {
    if (registry == null) {
      return null;
    }
    gauge(registry, "workqueue.depth", "Items waiting in the queue", null, name, queue, q -> q.len());
    gauge(registry, "workqueue.unfinished.work", "Seconds of work in progress not yet done", "seconds", name,
        queue, DefaultWorkQueue::unfinishedWorkSeconds);
    gauge(registry, "workqueue.longest.running.processor",
        "Seconds the longest-running item has been in progress", "seconds", name, queue,
        DefaultWorkQueue::longestRunningSeconds);
    return new QueueMetrics(
        Counter.builder("workqueue.adds").description("Items added").tag("name", name).register(registry),
        Counter.builder("workqueue.retries").description("Items re-added by the rate limiter").tag("name", name)
            .register(registry),
        Timer.builder("workqueue.queue.duration").description("Time an item waited before a worker took it")
            .tag("name", name).register(registry),
        Timer.builder("workqueue.work.duration").description("Time a worker held an item")
            .tag("name", name).register(registry));
  }

  private static <Q> void gauge(MeterRegistry registry, String metric, String description, String unit, String name,
      Q queue, ToDoubleFunction<Q> f) {
    Gauge.builder(metric, queue, f).description(description).baseUnit(unit).tag("name", name).register(registry);
  }

  void added() {
    adds.increment();
  }

  void retried() {
    retries.increment();
  }

  void waited(long nanos) {
    queueDuration.record(nanos, TimeUnit.NANOSECONDS);
  }

  void worked(long nanos) {
    workDuration.record(nanos, TimeUnit.NANOSECONDS);
  }
}
