package io.dkv.informer;

import java.util.Objects;

/**
 * One object as a source reports it: its cache key, the object, and the revision of its last change.
 *
 * <p>For the etcd source the key is the etcd key and the revision its mod revision; for the Kubernetes
 * source the key is {@code namespace/name} (or {@code name} for cluster-scoped kinds) and the revision
 * is {@code metadata.resourceVersion}.
 *
 * @param key      the cache key, never null
 * @param object   the object, never null
 * @param revision the revision of the object's last change
 * @param <T>      the object type
 */
public record Item<T>(String key, T object, long revision) {
  public Item {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(object, "object");
  }
}
