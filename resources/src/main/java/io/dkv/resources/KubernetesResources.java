package io.dkv.resources;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;

/**
 * {@link ResourceClient}s over a real Kubernetes API server, through fabric8, so code written against
 * {@code ResourceClient} (a reconciler, say) runs unchanged against {@link DkvResources} and against Kubernetes.
 * The API server's own rules then apply (they are the ones {@link DkvResources} follows); errors are the
 * {@link io.fabric8.kubernetes.client.KubernetesClientException}s fabric8 throws. Listers and watchers use the
 * informer module's Kubernetes source. The caller owns (and closes) the {@link KubernetesClient}.
 *
 * <pre>{@code
 * ResourceClient<Widget> widgets = onKubernetes
 *     ? KubernetesResources.create(kubernetesClient).resources(Widget.class)
 *     : DkvResources.create(dkvClient).resources(Widget.class);
 * }</pre>
 */
public final class KubernetesResources {
  private final KubernetesClient client;

  private KubernetesResources(KubernetesClient client) {
    this.client = Objects.requireNonNull(client, "client");
  }

  /** Resources through {@code client}. */
  public static KubernetesResources create(KubernetesClient client) {
    return new KubernetesResources(client);
  }

  /** The objects of a fabric8 model class or custom resource class. */
  public <T extends HasMetadata> ResourceClient<T> resources(Class<T> type) {
    return new KubernetesResourceClient<>(client, type);
  }
}
