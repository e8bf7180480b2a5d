package io.dkv.controller;

import io.dkv.informer.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Options of a {@link Controller}; get one from {@link Controller#builder}. A controller needs a primary
 * informer ({@code forResource}); everything else is optional.
 */
public final class ControllerBuilder {

  private final String name;
  private Watch<?> primary;
  private Class<? extends HasMetadata> primaryType;
  private final List<Watch<?>> secondary = new ArrayList<>();
  private final List<EventFilter<Object>> globalFilters = new ArrayList<>();
  private int workers = 1;
  private RateLimiter<Request> rateLimiter;
  private MeterRegistry meterRegistry = Metrics.globalRegistry;

  ControllerBuilder(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a controller needs a non-blank name");
    }
    this.name = name;
  }

  /**
   * The primary Kubernetes objects, of the kind {@code type}: each change enqueues the object's own
   * {@code namespace/name}, and {@link #owns} matches owner references to this kind. (A method of its own, not
   * an overload of {@code forResource}: code on the etcd path then compiles without fabric8 on its class path.)
   *
   * <pre>{@code
   * Controller.builder("replicasets").forKind(replicaSets, ReplicaSet.class).owns(pods).build(reconciler);
   * }</pre>
   */
  @SafeVarargs
  public final <T extends HasMetadata> ControllerBuilder forKind(SharedIndexInformer<T> informer, Class<T> type,
      EventFilter<? super T>... filters) {
    Objects.requireNonNull(type, "type");
    setPrimary(new Watch<T>(informer, EventHandler.enqueueObject(), Arrays.asList(filters)));
    this.primaryType = type;
    return this;
  }

  /**
   * The primary objects, each change enqueuing the object's own key: {@code Request.ofKey(v.key())} for the etcd
   * source's {@link io.dkv.client.Versioned} objects, {@code Request.of(object)} ({@code namespace/name}) for
   * Kubernetes objects. Objects of other types need {@link #forResource(SharedIndexInformer, Function,
   * EventFilter[])}; {@link #owns} needs {@link #forKind(SharedIndexInformer, Class, EventFilter[])}.
   *
   * <pre>{@code
   * SharedIndexInformer<Versioned<String>> in = SharedIndexInformer
   *     .builder(ListerWatchers.etcd(client, "in/", Codec.string())).build();
   * Controller.builder("upper").forResource(in).build(request -> ...);   // request.key() is "in/<name>"
   * }</pre>
   */
  @SafeVarargs
  public final <T> ControllerBuilder forResource(SharedIndexInformer<T> informer, EventFilter<? super T>... filters) {
    setPrimary(new Watch<T>(informer, EventHandler.enqueueObject(), Arrays.asList(filters)));
    return this;
  }

  /** The primary objects of any type: each change enqueues {@code keyOf(object)}. */
  @SafeVarargs
  public final <T> ControllerBuilder forResource(SharedIndexInformer<T> informer, Function<? super T, Request> keyOf,
      EventFilter<? super T>... filters) {
    setPrimary(new Watch<T>(informer, EventHandler.enqueueObject(keyOf), Arrays.asList(filters)));
    return this;
  }

  private void setPrimary(Watch<?> watch) {
    Objects.requireNonNull(watch.informer(), "informer");
    if (primary != null) {
      throw new IllegalStateException("controller " + name + " already has a primary informer");
    }
    primary = watch;
  }

  /**
   * Child Kubernetes objects: each change enqueues the child's controller owner (the owner reference with
   * {@code controller: true}) if it is of the primary type. Needs {@link #forKind(SharedIndexInformer, Class,
   * EventFilter[])} first.
   */
  @SafeVarargs
  public final <C extends HasMetadata> ControllerBuilder owns(SharedIndexInformer<C> children,
      EventFilter<? super C>... filters) {
    Objects.requireNonNull(children, "children");
    if (primaryType == null) {
      throw new IllegalStateException("owns() needs a Kubernetes primary type: call forKind(informer, Type.class)"
          + " first, or use watches() with a mapping for other objects");
    }
    secondary.add(new Watch<C>(children, EventHandler.enqueueOwner(primaryType, true), Arrays.asList(filters)));
    return this;
  }

  /** Any informer: each change enqueues what {@code mapper} returns for the object. */
  @SafeVarargs
  public final <C> ControllerBuilder watches(SharedIndexInformer<C> informer,
      Function<? super C, ? extends Collection<Request>> mapper, EventFilter<? super C>... filters) {
    return watches(informer, EventHandler.enqueueMapped(mapper), filters);
  }

  /** Any informer with any handler. */
  @SafeVarargs
  public final <C> ControllerBuilder watches(SharedIndexInformer<C> informer, EventHandler<? super C> handler,
      EventFilter<? super C>... filters) {
    Objects.requireNonNull(informer, "informer");
    Objects.requireNonNull(handler, "handler");
    secondary.add(new Watch<C>(informer, handler, Arrays.asList(filters)));
    return this;
  }

  /** A filter applied to the changes of every watched informer (the built-in filters fit any type). */
  public ControllerBuilder withEventFilter(EventFilter<Object> filter) {
    globalFilters.add(Objects.requireNonNull(filter, "filter"));
    return this;
  }

  /** How many reconciles may run at once (default 1); never two of the same request. */
  public ControllerBuilder workers(int maxConcurrentReconciles) {
    if (maxConcurrentReconciles <= 0) {
      throw new IllegalArgumentException("workers must be positive, got " + maxConcurrentReconciles);
    }
    this.workers = maxConcurrentReconciles;
    return this;
  }

  /** How failed requests are retried (default {@link RateLimiter#defaultControllerRateLimiter()}). */
  public ControllerBuilder rateLimiter(RateLimiter<Request> rateLimiter) {
    this.rateLimiter = Objects.requireNonNull(rateLimiter, "rateLimiter");
    return this;
  }

  /** Where the controller's and its queue's metrics go (default Micrometer's global registry); null for none. */
  public ControllerBuilder meterRegistry(MeterRegistry registry) {
    this.meterRegistry = registry;
    return this;
  }

  /** A new controller, not started. */
  public Controller build(Reconciler reconciler) {
    Objects.requireNonNull(reconciler, "reconciler");
    if (primary == null) {
      throw new IllegalStateException("controller " + name + " needs a primary informer: call forResource(...)");
    }
    List<Watch<?>> watches = new ArrayList<>();
    watches.add(withGlobalFilters(primary));
    for (Watch<?> w : secondary) {
      watches.add(withGlobalFilters(w));
    }
    RateLimitingQueue<Request> queue = WorkQueue.<Request>builder().name(name).meterRegistry(meterRegistry)
        .rateLimiter(rateLimiter != null ? rateLimiter : RateLimiter.defaultControllerRateLimiter()).build();
    return new DefaultController(name, watches, queue, reconciler, workers,
        ControllerMetrics.register(meterRegistry, name, workers));
  }

  private <T> Watch<T> withGlobalFilters(Watch<T> w) {
    List<EventFilter<? super T>> filters = new ArrayList<>(globalFilters);
    filters.addAll(w.filters());
    return new Watch<>(w.informer(), w.handler(), filters);
  }
}
