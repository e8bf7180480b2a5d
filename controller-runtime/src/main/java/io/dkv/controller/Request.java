package io.dkv.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Objects;

/**
 * What a {@link Reconciler} is asked to reconcile: the cache key of one object. For Kubernetes objects the key
 * is {@code namespace/name} (or {@code name} for cluster-scoped kinds), for etcd sources the etcd key; either
 * way {@link #key()} is what the informer's {@code Lister.get} takes.
 *
 * <pre>{@code
 * Request.of("default", "web")        // key "default/web", namespace "default", name "web"
 * Request.of(pod)                      // the same from a HasMetadata
 * Request.ofKey("/jobs/nightly")       // key "/jobs/nightly", namespace "", name "/jobs/nightly"
 * }</pre>
 *
 * @param key       the cache key
 * @param namespace the Kubernetes namespace, or "" for cluster-scoped objects and etcd keys
 * @param name      the Kubernetes name, or the whole key for etcd keys
 */
public record Request(String key, String namespace, String name) {

  public Request {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a request needs a non-empty name");
    }
    String expected = namespace.isEmpty() ? name : namespace + "/" + name;
    if (!key.equals(expected)) {
      throw new IllegalArgumentException("key " + key + " does not match namespace " + namespace + " and name "
          + name + " (expected " + expected + ")");
    }
  }

  /** A request for an object keyed by {@code key} alone, such as an etcd key. */
  public static Request ofKey(String key) {
    return new Request(key, "", key);
  }

  /** A request for the Kubernetes object {@code namespace/name}; an empty namespace means cluster-scoped. */
  public static Request of(String namespace, String name) {
    String ns = namespace == null ? "" : namespace;
    return new Request(ns.isEmpty() ? name : ns + "/" + name, ns, name);
  }

  /** A request for a Kubernetes object. */
  public static Request of(HasMetadata object) {
    Objects.requireNonNull(object, "object");
    if (object.getMetadata() == null || object.getMetadata().getName() == null) {
      throw new IllegalArgumentException("a " + object.getKind() + " without metadata.name cannot be requested");
    }
    return of(object.getMetadata().getNamespace(), object.getMetadata().getName());
  }

  @Override
  public String toString() {
    return key;
  }
}
