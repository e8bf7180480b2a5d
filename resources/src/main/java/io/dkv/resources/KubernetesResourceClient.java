package io.dkv.resources;

import io.dkv.controller.LabelSelectors;
import io.dkv.informer.ListerWatcher;
import io.dkv.informer.ListerWatchers;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** {@link ResourceClient} over a Kubernetes API server through fabric8. */
final class KubernetesResourceClient<T extends HasMetadata> implements ResourceClient<T> {
  private static final Comparator<HasMetadata> KEY_ORDER = Comparator
      .comparing((HasMetadata o) -> Objects.toString(o.getMetadata().getNamespace(), ""))
      .thenComparing(o -> o.getMetadata().getName());

  private final KubernetesClient client;
  private final Class<T> type;
  private final ResourceType resourceType;
  private final MixedOperation<T, ? extends KubernetesResourceList<T>, Resource<T>> operation;

  KubernetesResourceClient(KubernetesClient client, Class<T> type) {
    Objects.requireNonNull(type, "type");
    if (type == GenericKubernetesResource.class) {
      throw new IllegalArgumentException("GenericKubernetesResource has no kind: give a model class");
    }
    this.client = client;
    this.type = type;
    this.resourceType = ResourceType.of(ResourceDefinitionContext.fromResourceType(type));
    this.operation = client.resources(type);
  }

  @Override
  public String kind() {
    return resourceType.kind();
  }

  @Override
  public String apiVersion() {
    return resourceType.apiVersion();
  }

  @Override
  public boolean namespaced() {
    return resourceType.namespaced();
  }

  @Override
  public T create(T object) {
    return in(namespaceOf(object)).resource(object).create();
  }

  @Override
  public Optional<T> get(String namespace, String name) {
    requireName(name);
    return Optional.ofNullable(in(requireNamespace(namespace)).withName(name).get());
  }

  @Override
  public List<T> list(String namespace) {
    return sorted(scope(namespace).list().getItems());
  }

  @Override
  public List<T> list(String namespace, LabelSelector selector) {
    LabelSelectors.matcher(selector); // the same validation as on DKV
    return sorted(selector == null ? scope(namespace).list().getItems()
        : scope(namespace).withLabelSelector(selector).list().getItems());
  }

  @Override
  public List<T> list(String namespace, Map<String, String> labels) {
    Objects.requireNonNull(labels, "labels");
    return sorted(scope(namespace).withLabels(labels).list().getItems());
  }

  @Override
  public T update(T object) {
    return in(namespaceOf(object)).resource(object).update();
  }

  @Override
  public T updateStatus(T object) {
    return in(namespaceOf(object)).resource(object).updateStatus();
  }

  @Override
  public boolean delete(String namespace, String name) {
    requireName(name);
    return !in(requireNamespace(namespace)).withName(name).delete().isEmpty();
  }

  @Override
  public boolean delete(String namespace, String name, String resourceVersion) {
    requireName(name);
    Resource<T> resource = in(requireNamespace(namespace)).withName(name);
    return !(resourceVersion == null ? resource.delete() : resource.lockResourceVersion(resourceVersion).delete())
        .isEmpty();
  }

  @Override
  public ListerWatcher<T> listerWatcher(String namespace, LabelSelector selector) {
    LabelSelectors.matcher(selector);
    String ns = namespaced() ? namespace : null;
    return selector == null ? ListerWatchers.kubernetes(client, type, ns)
        : ListerWatchers.kubernetes(client, type, ns, LabelSelectors.format(selector));
  }

  private NonNamespaceOperation<T, ? extends KubernetesResourceList<T>, Resource<T>> in(String namespace) {
    return namespaced() ? operation.inNamespace(namespace) : operation;
  }

  private FilterWatchListDeletable<T, ? extends KubernetesResourceList<T>, Resource<T>> scope(String namespace) {
    if (!namespaced()) {
      return operation;
    }
    return namespace == null ? operation.inAnyNamespace() : operation.inNamespace(namespace);
  }

  private String namespaceOf(T object) {
    Objects.requireNonNull(object, "object");
    return object.getMetadata() == null ? null : object.getMetadata().getNamespace();
  }

  private String requireNamespace(String namespace) {
    if (namespaced() && (namespace == null || namespace.isEmpty())) {
      throw new IllegalArgumentException(kind() + " is namespaced: give a namespace");
    }
    return namespace;
  }

  private static void requireName(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("invalid name \"" + name + "\"");
    }
  }

  private static <T extends HasMetadata> List<T> sorted(List<T> items) {
    List<T> out = new ArrayList<>(items);
    out.sort(KEY_ORDER);
    return out;
  }
}
