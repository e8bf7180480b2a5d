package io.dkv.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/** The requests of an object's owners of one group and kind. */
final class OwnerMapper<T extends HasMetadata> implements Function<T, Collection<Request>> {

  private final String group;
  private final String kind;
  private final boolean namespacedOwner;
  private final boolean onlyController;

  OwnerMapper(String group, String kind, boolean namespacedOwner, boolean onlyController) {
    this.group = Objects.requireNonNull(group, "group");
    this.kind = Objects.requireNonNull(kind, "kind");
    if (kind.isEmpty()) {
      throw new IllegalArgumentException("the owner kind must not be empty");
    }
    this.namespacedOwner = namespacedOwner;
    this.onlyController = onlyController;
  }

  @Override
  public Collection<Request> apply(T object) {
    if (object == null || object.getMetadata() == null || object.getMetadata().getOwnerReferences() == null) {
      return List.of();
    }
    List<Request> owners = new ArrayList<>(1);
    for (OwnerReference ref : object.getMetadata().getOwnerReferences()) {
      if (onlyController && !Boolean.TRUE.equals(ref.getController())) {
        continue;
      }
      if (!kind.equals(ref.getKind()) || !group.equals(groupOf(ref.getApiVersion()))) {
        continue;
      }
      owners.add(Request.of(namespacedOwner ? object.getMetadata().getNamespace() : "", ref.getName()));
    }
    return owners;
  }

  /** The group of an apiVersion: "apps" of "apps/v1", "" of the core group's "v1". */
  static String groupOf(String apiVersion) {
    if (apiVersion == null) {
      return "";
    }
    int slash = apiVersion.indexOf('/');
    return slash < 0 ? "" : apiVersion.substring(0, slash);
  }
}
