package io.dkv.controller;

import io.dkv.client.Versioned;

/**
 * The request of an object by its own key: {@code Request.ofKey(key)} for a {@link Versioned} (the etcd source's
 * objects), {@code Request.of(object)} (namespace/name) for a Kubernetes object. Loading this class loads nothing
 * of fabric8: a Kubernetes object is recognised by the name of an interface its class implements, and only then
 * is {@link KubernetesKeys} (which needs fabric8) used, so etcd users run without fabric8 on the class path.
 */
final class ObjectKeys {
  private static final String HAS_METADATA = "io.fabric8.kubernetes.api.model.HasMetadata";

  private ObjectKeys() {}

  static Request requestOf(Object object) {
    if (object instanceof Versioned<?> v) {
      return Request.ofKey(v.key());
    }
    if (object != null && isKubernetes(object.getClass())) {
      return KubernetesKeys.requestOf(object);
    }
    throw new IllegalArgumentException("cannot tell the key of "
        + (object == null ? "a null object" : "a " + object.getClass().getName())
        + ": objects of the etcd source (Versioned) and Kubernetes objects (HasMetadata) have one; for other"
        + " types pass a key function, as in forResource(informer, o -> Request.ofKey(...))");
  }

  /** Whether {@code type} implements fabric8's HasMetadata, told by name (nothing of fabric8 is loaded here). */
  static boolean isKubernetes(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      for (Class<?> i : c.getInterfaces()) {
        if (i.getName().equals(HAS_METADATA) || isKubernetes(i)) {
          return true;
        }
      }
    }
    return false;
  }
}

/** The Kubernetes half of {@link ObjectKeys}; loaded only for objects that are fabric8 {@code HasMetadata}. */
final class KubernetesKeys {
  private KubernetesKeys() {}

  static Request requestOf(Object object) {
    return Request.of((io.fabric8.kubernetes.api.model.HasMetadata) object);
  }
}
