package io.dkv.controller;

import io.dkv.informer.AuditReport;
import io.dkv.informer.HandlerRegistration;
import io.dkv.informer.Lister;
import io.dkv.informer.ResourceEventHandler;
import io.dkv.informer.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * fabric8's own informer behind DKV's {@link SharedIndexInformer} interface, so the controller runtime can be
 * tested against a Kubernetes API (the mock server) before DKV's informer with its Kubernetes source lands.
 * Test code only.
 */
final class Fabric8Informer<T extends HasMetadata> implements SharedIndexInformer<T> {

  private final io.fabric8.kubernetes.client.informers.SharedIndexInformer<T> informer;
  private final Map<HandlerRegistration, io.fabric8.kubernetes.client.informers.ResourceEventHandler<T>> handlers =
      new ConcurrentHashMap<>();

  Fabric8Informer(io.fabric8.kubernetes.client.informers.SharedIndexInformer<T> notStarted) {
    this.informer = notStarted;
  }

  @Override
  public HandlerRegistration addEventHandler(ResourceEventHandler<T> handler) {
    io.fabric8.kubernetes.client.informers.ResourceEventHandler<T> adapted =
        new io.fabric8.kubernetes.client.informers.ResourceEventHandler<>() {
          @Override
          public void onAdd(T obj) {
            handler.onAdd(obj, !informer.hasSynced());
          }

          @Override
          public void onUpdate(T oldObj, T newObj) {
            handler.onUpdate(oldObj, newObj);
          }

          @Override
          public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            handler.onDelete(obj, deletedFinalStateUnknown);
          }
        };
    HandlerRegistration registration = new HandlerRegistration() {
      @Override
      public boolean hasSynced() {
        return informer.hasSynced();
      }

      @Override
      public int backlog() {
        return 0;
      }
    };
    handlers.put(registration, adapted);
    informer.addEventHandler(adapted);
    return registration;
  }

  @Override
  public HandlerRegistration addEventHandler(ResourceEventHandler<T> handler, Duration resyncPeriod) {
    return addEventHandler(handler);
  }

  @Override
  public void removeEventHandler(HandlerRegistration registration) {
    io.fabric8.kubernetes.client.informers.ResourceEventHandler<T> h = handlers.remove(registration);
    if (h != null) {
      informer.removeEventHandler(h);
    }
  }

  @Override
  public Lister<T> lister() {
    return new Lister<>() {
      @Override
      public Optional<T> get(String key) {
        return Optional.ofNullable(informer.getStore().getByKey(key));
      }

      @Override
      public List<T> list() {
        return informer.getStore().list();
      }

      @Override
      public Set<String> keys() {
        return new TreeSet<>(informer.getStore().listKeys());
      }

      @Override
      public List<T> byIndex(String indexName, String value) {
        return informer.getIndexer().byIndex(indexName, value);
      }

      @Override
      public long revision() {
        String rv = informer.lastSyncResourceVersion();
        return rv == null ? 0 : Long.parseLong(rv);
      }
    };
  }

  @Override
  public SharedIndexInformer<T> start() {
    informer.start();
    return this;
  }

  @Override
  public boolean hasSynced() {
    return informer.hasSynced();
  }

  @Override
  public boolean isWatching() {
    return informer.isWatching();
  }

  @Override
  public CompletableFuture<Void> stopped() {
    return informer.stopped().toCompletableFuture().thenApply(v -> null);
  }

  @Override
  public AuditReport audit() {
    throw new UnsupportedOperationException("fabric8's informer has no audit");
  }

  @Override
  public void close() {
    informer.close();
  }

  @Override
  public String toString() {
    return "fabric8 informer of " + informer.getApiTypeClass().getSimpleName();
  }
}
