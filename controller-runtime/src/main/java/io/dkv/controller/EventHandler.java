package io.dkv.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespaced;
import java.util.Collection;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Turns an informer's changes into {@link Request}s on a controller's queue. Built-in handlers enqueue the
 * object itself, its owners, or whatever a mapping function returns.
 *
 * <pre>{@code
 * EventHandler<Pod> owners = EventHandler.enqueueOwner(ReplicaSet.class, true);
 * EventHandler<Versioned<Job>> self = EventHandler.enqueueObject();   // the etcd key; namespace/name for Kubernetes
 * EventHandler<Node> all = EventHandler.enqueueMapped(node -> podsOn(node).stream().map(Request::of).toList());
 * }</pre>
 *
 * @param <T> the object type
 */
public interface EventHandler<T> {

  /** An object appeared (or was listed initially). */
  void onAdd(T object, Consumer<Request> queue);

  /** An object changed (or was re-delivered on resync). */
  void onUpdate(T before, T after, Consumer<Request> queue);

  /** An object disappeared. */
  void onDelete(T object, Consumer<Request> queue);

  /** Enqueues the object's own request, as {@code keyOf} gives it. */
  static <T> EventHandler<T> enqueueObject(Function<? super T, Request> keyOf) {
    Objects.requireNonNull(keyOf, "keyOf");
    return new EventHandler<>() {
      @Override
      public void onAdd(T object, Consumer<Request> queue) {
        queue.accept(keyOf.apply(object));
      }

      @Override
      public void onUpdate(T before, T after, Consumer<Request> queue) {
        queue.accept(keyOf.apply(after));
      }

      @Override
      public void onDelete(T object, Consumer<Request> queue) {
        queue.accept(keyOf.apply(object));
      }
    };
  }

  /**
   * Enqueues the object's own key: {@code Request.ofKey(v.key())} for the etcd source's {@link
   * io.dkv.client.Versioned} objects, {@code Request.of(object)} ({@code namespace/name}) for Kubernetes objects.
   * For objects of other types the handler throws {@link IllegalArgumentException} (use
   * {@link #enqueueObject(Function)}).
   */
  static <T> EventHandler<T> enqueueObject() {
    return enqueueObject(ObjectKeys::requestOf);
  }

  /**
   * Enqueues whatever {@code mapper} returns for the object; on an update, for the object before and after the
   * change (so a request the change no longer maps to is reconciled too).
   */
  static <T> EventHandler<T> enqueueMapped(Function<? super T, ? extends Collection<Request>> mapper) {
    Objects.requireNonNull(mapper, "mapper");
    return new EventHandler<>() {
      @Override
      public void onAdd(T object, Consumer<Request> queue) {
        mapper.apply(object).forEach(queue);
      }

      @Override
      public void onUpdate(T before, T after, Consumer<Request> queue) {
        if (before != null) {
          mapper.apply(before).forEach(queue);
        }
        mapper.apply(after).forEach(queue);
      }

      @Override
      public void onDelete(T object, Consumer<Request> queue) {
        mapper.apply(object).forEach(queue);
      }
    };
  }

  /**
   * Enqueues the owners of a Kubernetes object (its {@code metadata.ownerReferences}) of the type
   * {@code ownerType}, matched by API group and kind; with {@code onlyController}, only the owner reference
   * marked {@code controller: true}. Namespaced owners are looked up in the object's namespace.
   */
  static <T extends HasMetadata> EventHandler<T> enqueueOwner(Class<? extends HasMetadata> ownerType,
      boolean onlyController) {
    Objects.requireNonNull(ownerType, "ownerType");
    return enqueueOwner(HasMetadata.getGroup(ownerType), HasMetadata.getKind(ownerType),
        Namespaced.class.isAssignableFrom(ownerType), onlyController);
  }

  /**
   * Enqueues the owners of a Kubernetes object whose API group is {@code group} ("" for the core group) and
   * kind is {@code kind}, for kinds without a Java class (custom resources read as generic objects).
   */
  static <T extends HasMetadata> EventHandler<T> enqueueOwner(String group, String kind, boolean namespacedOwner,
      boolean onlyController) {
    return enqueueMapped(new OwnerMapper<>(group, kind, namespacedOwner, onlyController));
  }
}
