package io.dkv.informer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * An informer's meters, all tagged {@code informer=<name>}; removed from the registry when the informer closes.
 * The names are listed in docs/informer.md.
 */
final class InformerMetrics {
  private final MeterRegistry registry;
  private final Tags tags;
  private final List<Meter> meters = new ArrayList<>();
  private final Map<Event.Type, Counter> events = new EnumMap<>(Event.Type.class);
  private final Counter relists;
  private final Counter watchRestarts;
  private final Counter auditDrift;
  private volatile long lastSyncMillis;

  InformerMetrics(MeterRegistry registry, String name) {
    this.registry = registry;
    this.tags = Tags.of("informer", name);
    for (Event.Type t : Event.Type.values()) {
      events.put(t, add(Counter.builder("informer.events").tags(tags).tag("type", t.name())
          .description("events applied to the cache").register(registry)));
    }
    relists = add(Counter.builder("informer.relists").tags(tags)
        .description("lists after the first (history compacted, or drift repaired)").register(registry));
    watchRestarts = add(Counter.builder("informer.watch.restarts").tags(tags)
        .description("watches reopened after an error, a close by the server or a silent stream").register(registry));
    auditDrift = add(Counter.builder("informer.audit.drift").tags(tags)
        .description("keys an audit found different from the server").register(registry));
    gauge("informer.last.sync", "when the cache last equalled a full list or a clean audit (epoch seconds)",
        this, m -> m.lastSyncMillis / 1000.0);
  }

  /** Registers a gauge reading {@code value} (kept weakly by Micrometer, so {@code target} must stay referenced). */
  <S> void gauge(String name, String description, S target, ToDoubleFunction<S> value) {
    add(Gauge.builder(name, target, value).tags(tags).description(description).register(registry));
  }

  private <M extends Meter> M add(M meter) {
    meters.add(meter);
    return meter;
  }

  void event(Event.Type type) {
    events.get(type).increment();
  }

  void relist() {
    relists.increment();
  }

  void watchRestart() {
    watchRestarts.increment();
  }

  void drift(int keys) {
    auditDrift.increment(keys);
  }

  void synced() {
    lastSyncMillis = System.currentTimeMillis();
  }

  void close() {
    for (Meter m : meters) {
      registry.remove(m);
    }
  }
}
