package io.dkv.informer;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link SharedIndexInformer} built by {@link InformerBuilder#build()}. */
final class DefaultInformer<T> implements SharedIndexInformer<T> {

  private static final Logger log = LoggerFactory.getLogger(DefaultInformer.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final String name;
  private final ListerWatcher<T> source;
  private final int pageSize;
  private final Duration resyncPeriod;
  private final Duration auditPeriod;
  private final Store<T> store;
  private final SharedProcessor<T> processor = new SharedProcessor<>();
  private final InformerMetrics metrics;
  private final Reflector<T> reflector;
  private final ExecutorService handlers;
  private final ScheduledExecutorService scheduler;
  private final Map<ProcessorListener<T>, ScheduledFuture<?>> resyncs = new java.util.concurrent.ConcurrentHashMap<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  DefaultInformer(InformerBuilder<T> b) {
    this.name = b.name;
    this.source = b.source;
    this.pageSize = b.pageSize;
    this.resyncPeriod = b.resyncPeriod;
    this.auditPeriod = b.auditPeriod;
    this.store = new Store<>(b.indexes);
    this.metrics = new InformerMetrics(b.meterRegistry, name);
    this.handlers = Executors.newCachedThreadPool(r -> daemon(r, "dkv-informer-" + name + "-handler-"));
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "dkv-informer-" + name + "-timer-"));
    this.reflector = new Reflector<>(name, source, store, processor, b.transform, b.pageSize,
        new Backoff(b.initialBackoff, b.maxBackoff), b.watchSilenceTimeout, b.errorHandler, metrics, this::fail);
    metrics.gauge("informer.lag", "the source's latest known revision minus the cache's", reflector,
        Reflector::lag);
    metrics.gauge("informer.handler.backlog", "notifications waiting for handlers, summed over handlers",
        processor, SharedProcessor::backlog);
    metrics.gauge("informer.cache.size", "objects in the cache", store, Store::size);
    metrics.gauge("informer.revision", "the revision the cache reflects", store, Store::revision);
  }

  private static Thread daemon(Runnable r, String prefix) {
    Thread t = new Thread(r, prefix + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  }

  @Override
  public HandlerRegistration addEventHandler(ResourceEventHandler<T> handler) {
    return addEventHandler(handler, resyncPeriod);
  }

  @Override
  public HandlerRegistration addEventHandler(ResourceEventHandler<T> handler, Duration period) {
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(period, "resyncPeriod");
    if (period.isNegative()) {
      throw new IllegalArgumentException("resyncPeriod must not be negative, got " + period);
    }
    if (closed.get()) {
      throw new IllegalStateException("informer " + name + " is closed");
    }
    ProcessorListener<T> d = new ProcessorListener<>(handler, handlers, reflector::synced);
    reflector.lock.lock();
    try {
      for (Map.Entry<String, Store.Entry<T>> e : store.entries()) {
        d.changed(e.getKey(), null, e.getValue().object(), true, false);
      }
      processor.add(d);
    } finally {
      reflector.lock.unlock();
    }
    if (!period.isZero()) {
      long nanos = period.toNanos();
      resyncs.put(d, scheduler.scheduleAtFixedRate(() -> resync(d), nanos, nanos, TimeUnit.NANOSECONDS));
    }
    return d;
  }

  private void resync(ProcessorListener<T> d) {
    reflector.lock.lock();
    try {
      for (Map.Entry<String, Store.Entry<T>> e : store.entries()) {
        d.resync(e.getKey(), e.getValue().object());
      }
    } finally {
      reflector.lock.unlock();
    }
  }

  @Override
  public void removeEventHandler(HandlerRegistration registration) {
    if (!(registration instanceof ProcessorListener<?> d) || !processor.all().contains(d)) {
      throw new IllegalArgumentException("not a handler of informer " + name + ": " + registration);
    }
    @SuppressWarnings("unchecked")
    ProcessorListener<T> mine = (ProcessorListener<T>) d;
    processor.remove(mine);
    mine.remove();
    ScheduledFuture<?> r = resyncs.remove(mine);
    if (r != null) {
      r.cancel(false);
    }
  }

  @Override
  public Lister<T> lister() {
    return store;
  }

  @Override
  public SharedIndexInformer<T> start() {
    if (closed.get()) {
      throw new IllegalStateException("informer " + name + " is closed");
    }
    if (started.compareAndSet(false, true)) {
      reflector.start();
      if (!auditPeriod.isZero()) {
        long nanos = auditPeriod.toNanos();
        scheduler.scheduleWithFixedDelay(this::periodicAudit, nanos, nanos, TimeUnit.NANOSECONDS);
      }
    }
    return this;
  }

  private void periodicAudit() {
    if (!reflector.synced() || !reflector.watching()) {
      return;
    }
    try {
      AuditReport r = audit();
      if (!r.clean()) {
        log.warn("informer {}: audit at revision {} found drift (repaired): {} missing, {} extra, {} stale", name,
            r.revision(), r.missing().size(), r.extra().size(), r.stale().size());
      }
    } catch (RuntimeException e) {
      log.warn("informer {}: audit failed: {}", name, e.toString());
    }
  }

  @Override
  public boolean hasSynced() {
    return reflector.synced();
  }

  @Override
  public boolean isWatching() {
    return reflector.watching();
  }

  @Override
  public Optional<Throwable> lastError() {
    return reflector.lastError();
  }

  @Override
  public CompletableFuture<Void> stopped() {
    return stopped;
  }

  /**
   * Reads the keys and revisions of the source at the cache's revision and compares them with the cache's; on
   * any difference, lists again (with the watch paused) and reconciles, which repairs the drift and tells the
   * handlers.
   */
  @Override
  public AuditReport audit() {
    if (!reflector.synced()) {
      throw new IllegalStateException("informer " + name + " has not synced yet: nothing to audit");
    }
    Store.Revisions cached;
    reflector.lock.lock();
    try {
      cached = store.revisions();
    } finally {
      reflector.lock.unlock();
    }
    long at = cached.revision();
    Map<String, Long> keys = cached.keys();
    Set<String> missing = new HashSet<>();
    Set<String> stale = new HashSet<>();
    Set<String> seen = new HashSet<>();
    String continueFrom = null;
    do {
      Page<Long> page = source.listRevisions(at, continueFrom, pageSize);
      for (Item<Long> item : page.items()) {
        seen.add(item.key());
        Long mine = keys.get(item.key());
        if (mine == null) {
          missing.add(item.key());
        } else if (mine != item.revision()) {
          stale.add(item.key());
        }
      }
      continueFrom = page.continueFrom();
    } while (continueFrom != null);
    Set<String> extra = new HashSet<>(keys.keySet());
    extra.removeAll(seen);
    AuditReport report = new AuditReport(at, missing, extra, stale);
    if (report.clean()) {
      metrics.synced();
    } else {
      metrics.drift(missing.size() + extra.size() + stale.size());
      reflector.listAndReconcile(true);
    }
    return report;
  }

  private void fail(Throwable cause) {
    shutdown();
    stopped.completeExceptionally(cause);
  }

  @Override
  public void close() {
    shutdown();
    stopped.complete(null);
  }

  private void shutdown() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    reflector.stop();
    scheduler.shutdownNow();
    processor.closeAll();
    handlers.shutdown();
    metrics.close();
    log.debug("informer {} stopped", name);
  }

  @Override
  public String toString() {
    return "informer " + name;
  }
}
