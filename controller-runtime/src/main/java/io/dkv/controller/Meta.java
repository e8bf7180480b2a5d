package io.dkv.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.Map;

/** Reads Kubernetes metadata from objects the filters only know as {@code Object}. */
final class Meta {
  private Meta() {}

  static ObjectMeta of(Object object) {
    if (object instanceof HasMetadata h) {
      return h.getMetadata() != null ? h.getMetadata() : new ObjectMeta();
    }
    throw new IllegalArgumentException("this filter reads Kubernetes metadata, but got a "
        + (object == null ? "null object" : object.getClass().getName() + ", which is not a HasMetadata"));
  }

  static Map<String, String> labels(Object object) {
    Map<String, String> labels = of(object).getLabels();
    return labels != null ? labels : Map.of();
  }
}
