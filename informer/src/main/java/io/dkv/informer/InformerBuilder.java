package io.dkv.informer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Options of a {@link SharedIndexInformer}; get one from {@link SharedIndexInformer#builder}.
 *
 * @param <T> the object type
 */
public final class InformerBuilder<T> {
  final ListerWatcher<T> source;
  final Map<String, Function<? super T, ? extends Collection<String>>> indexes = new LinkedHashMap<>();
  String name;
  Duration resyncPeriod = Duration.ZERO;
  UnaryOperator<T> transform = UnaryOperator.identity();
  int pageSize = 500;
  Duration initialBackoff = Duration.ofMillis(200);
  Duration maxBackoff = Duration.ofSeconds(30);
  Duration watchSilenceTimeout = Duration.ofMinutes(5);
  Duration auditPeriod = Duration.ZERO;
  ErrorHandler errorHandler = error -> true;
  MeterRegistry meterRegistry = Metrics.globalRegistry;

  InformerBuilder(ListerWatcher<T> source) {
    this.source = Objects.requireNonNull(source, "source");
    this.name = source.description();
  }

  /** The name used in logs and as the {@code informer} tag of metrics; defaults to the source's description. */
  public InformerBuilder<T> name(String name) {
    this.name = Objects.requireNonNull(name, "name");
    return this;
  }

  /**
   * Adds a secondary index: {@code indexFunction} gives the index values of an object (none, one or many),
   * looked up with {@link Lister#byIndex}.
   */
  public InformerBuilder<T> index(String indexName, Function<? super T, ? extends Collection<String>> indexFunction) {
    Objects.requireNonNull(indexName, "indexName");
    Objects.requireNonNull(indexFunction, "indexFunction");
    if (indexes.putIfAbsent(indexName, indexFunction) != null) {
      throw new IllegalArgumentException("index " + indexName + " is defined twice");
    }
    return this;
  }

  /** Every handler gets every cached object again as {@code onUpdate(o, o)} this often; zero (the default) never. */
  public InformerBuilder<T> resyncPeriod(Duration period) {
    this.resyncPeriod = nonNegative(period, "resyncPeriod");
    return this;
  }

  /** Applied to every object before it is cached, to strip what handlers do not need. */
  public InformerBuilder<T> transform(UnaryOperator<T> transform) {
    this.transform = Objects.requireNonNull(transform, "transform");
    return this;
  }

  /** The most objects per list page (default 500); memory while listing stays in proportion to it. */
  public InformerBuilder<T> pageSize(int pageSize) {
    if (pageSize <= 0) {
      throw new IllegalArgumentException("pageSize must be positive, got " + pageSize);
    }
    this.pageSize = pageSize;
    return this;
  }

  /** The backoff before the first retry and its cap; each retry doubles it, with full jitter. */
  public InformerBuilder<T> backoff(Duration initial, Duration max) {
    this.initialBackoff = positive(initial, "initial");
    this.maxBackoff = positive(max, "max");
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("max backoff " + max + " is below the initial " + initial);
    }
    return this;
  }

  /**
   * A watch that delivers nothing, not even a bookmark or progress notification, for this long is
   * presumed dead and reopened from the last revision (default 5 minutes).
   */
  public InformerBuilder<T> watchSilenceTimeout(Duration timeout) {
    this.watchSilenceTimeout = positive(timeout, "watchSilenceTimeout");
    return this;
  }

  /** Runs {@link SharedIndexInformer#audit()} this often; zero (the default) never. */
  public InformerBuilder<T> auditPeriod(Duration period) {
    this.auditPeriod = nonNegative(period, "auditPeriod");
    return this;
  }

  /** Decides, after each failed list or watch, whether to retry or stop (default: always retry). */
  public InformerBuilder<T> errorHandler(ErrorHandler handler) {
    this.errorHandler = Objects.requireNonNull(handler, "handler");
    return this;
  }

  /** Where the informer's metrics go (default Micrometer's global registry). */
  public InformerBuilder<T> meterRegistry(MeterRegistry registry) {
    this.meterRegistry = Objects.requireNonNull(registry, "registry");
    return this;
  }

  /** A new informer, not started. */
  public SharedIndexInformer<T> build() {
    return new DefaultInformer<>(this);
  }

  private static Duration positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
    return d;
  }

  private static Duration nonNegative(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative()) {
      throw new IllegalArgumentException(what + " must not be negative, got " + d);
    }
    return d;
  }
}
