package io.dkv.controller;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** controller-runtime's controller metrics, tagged with the controller's name. */
final class ControllerMetrics {

  /** The outcomes of a reconcile, as the {@code result} tag. */
  enum Outcome {
    SUCCESS("success"), REQUEUE_AFTER("requeue_after"), ERROR("error"), TERMINAL_ERROR("terminal_error");

    final String tag;

    Outcome(String tag) {
      this.tag = tag;
    }
  }

  final AtomicInteger active = new AtomicInteger();
  private final Map<Outcome, Counter> reconciles;
  private final Counter errors;
  private final Counter terminalErrors;
  private final Counter panics;
  private final Timer time;

  private ControllerMetrics(Map<Outcome, Counter> reconciles, Counter errors, Counter terminalErrors, Counter panics,
      Timer time) {
    this.reconciles = reconciles;
    this.errors = errors;
    this.terminalErrors = terminalErrors;
    this.panics = panics;
    this.time = time;
  }

  /** Metrics in {@code registry}, or counting nothing but active workers when it is null. */
  static ControllerMetrics register(MeterRegistry registry, String name, int workers) {
    if (registry == null) {
      return new ControllerMetrics(null, null, null, null, null);
    }
    Map<Outcome, Counter> reconciles = new EnumMap<>(Outcome.class);
    for (Outcome o : Outcome.values()) {
      reconciles.put(o, Counter.builder("controller.runtime.reconcile").description("Reconciles by result")
          .tag("controller", name).tag("result", o.tag).register(registry));
    }
    ControllerMetrics m = new ControllerMetrics(reconciles,
        counter(registry, "controller.runtime.reconcile.errors", "Reconciles that failed", name),
        counter(registry, "controller.runtime.terminal.reconcile.errors", "Reconciles that failed terminally", name),
        counter(registry, "controller.runtime.reconcile.panics", "Reconciles that threw an unexpected exception",
            name),
        Timer.builder("controller.runtime.reconcile.time").description("Time per reconcile").tag("controller", name)
            .register(registry));
    Gauge.builder("controller.runtime.active.workers", m.active, AtomicInteger::get)
        .description("Reconciles running now").tag("controller", name).strongReference(true).register(registry);
    Gauge.builder("controller.runtime.max.concurrent.reconciles", () -> workers)
        .description("Workers of the controller").tag("controller", name).register(registry);
    return m;
  }

  private static Counter counter(MeterRegistry registry, String metric, String description, String name) {
    return Counter.builder(metric).description(description).tag("controller", name).register(registry);
  }

  void reconciled(Outcome outcome, long nanos, boolean panic) {
    if (reconciles == null) {
      return;
    }
    reconciles.get(outcome).increment();
    time.record(nanos, TimeUnit.NANOSECONDS);
    if (outcome == Outcome.ERROR) {
      errors.increment();
    } else if (outcome == Outcome.TERMINAL_ERROR) {
      terminalErrors.increment();
    }
    if (panic) {
      panics.increment();
    }
  }
}
