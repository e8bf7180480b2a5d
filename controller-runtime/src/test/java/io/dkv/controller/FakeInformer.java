package io.dkv.controller;

import io.dkv.informer.AuditReport;
import io.dkv.informer.HandlerRegistration;
import io.dkv.informer.Lister;
import io.dkv.informer.ResourceEventHandler;
import io.dkv.informer.SharedIndexInformer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A hand-driven informer for tests: {@link #put} and {@link #remove} call the handlers on the caller's thread. */
final class FakeInformer<T> implements SharedIndexInformer<T> {

  private final Function<T, String> keyOf;
  private final TreeMap<String, T> objects = new TreeMap<>();
  private final List<Registration> handlers = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private volatile boolean started;
  private volatile boolean syncOnStart = true;
  private volatile boolean synced;
  private long revision;

  FakeInformer(Function<T, String> keyOf) {
    this.keyOf = keyOf;
  }

  /** Makes start() leave the informer unsynced until {@link #markSynced()}. */
  FakeInformer<T> syncLater() {
    syncOnStart = false;
    return this;
  }

  void markSynced() {
    synced = true;
  }

  boolean started() {
    return started;
  }

  int handlerCount() {
    return handlers.size();
  }

  void put(T object) {
    T before;
    synchronized (this) {
      before = objects.put(keyOf.apply(object), object);
      revision++;
    }
    for (Registration r : handlers) {
      if (before == null) {
        r.handler.onAdd(object, false);
      } else {
        r.handler.onUpdate(before, object);
      }
    }
  }

  void remove(String key) {
    T before;
    synchronized (this) {
      before = objects.remove(key);
      revision++;
    }
    if (before != null) {
      for (Registration r : handlers) {
        r.handler.onDelete(before, false);
      }
    }
  }

  /** Re-delivers every object as onUpdate(o, o), as a resync does. */
  void resync() {
    List<T> all = lister().list();
    for (Registration r : handlers) {
      all.forEach(o -> r.handler.onUpdate(o, o));
    }
  }

  private final class Registration implements HandlerRegistration {
    final ResourceEventHandler<T> handler;

    Registration(ResourceEventHandler<T> handler) {
      this.handler = handler;
    }

    @Override
    public boolean hasSynced() {
      return true;
    }

    @Override
    public int backlog() {
      return 0;
    }
  }

  @Override
  public HandlerRegistration addEventHandler(ResourceEventHandler<T> handler) {
    Registration r = new Registration(handler);
    handlers.add(r);
    lister().list().forEach(o -> handler.onAdd(o, true));
    return r;
  }

  @Override
  public HandlerRegistration addEventHandler(ResourceEventHandler<T> handler, Duration resyncPeriod) {
    return addEventHandler(handler);
  }

  @Override
  public void removeEventHandler(HandlerRegistration registration) {
    handlers.remove(registration);
  }

  @Override
  public Lister<T> lister() {
    FakeInformer<T> self = this;
    return new Lister<>() {
      @Override
      public Optional<T> get(String key) {
        synchronized (self) {
          return Optional.ofNullable(objects.get(key));
        }
      }

      @Override
      public List<T> list() {
        synchronized (self) {
          return List.copyOf(objects.values());
        }
      }

      @Override
      public Set<String> keys() {
        synchronized (self) {
          return Set.copyOf(objects.keySet());
        }
      }

      @Override
      public List<T> byIndex(String indexName, String value) {
        throw new IllegalArgumentException("no index " + indexName);
      }

      @Override
      public long revision() {
        synchronized (self) {
          return revision;
        }
      }
    };
  }

  @Override
  public SharedIndexInformer<T> start() {
    started = true;
    if (syncOnStart) {
      synced = true;
    }
    return this;
  }

  @Override
  public boolean hasSynced() {
    return synced;
  }

  @Override
  public boolean isWatching() {
    return started && !stopped.isDone();
  }

  @Override
  public CompletableFuture<Void> stopped() {
    return stopped;
  }

  @Override
  public AuditReport audit() {
    return new AuditReport(revision, Set.of(), Set.of(), Set.of());
  }

  @Override
  public void close() {
    stopped.complete(null);
  }

  static Map<String, String> labels(String... kv) {
    Map<String, String> m = new TreeMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }
}
