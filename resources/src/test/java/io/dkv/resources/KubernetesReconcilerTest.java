package io.dkv.resources;

import io.dkv.testing.MockKubernetes;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.Test;

/**
 * {@link WidgetReconciler}, the class {@link DkvReconcilerTest} runs on DKV, on fabric8's mock API server (CRUD
 * mode) through {@link KubernetesResources} and the informer's Kubernetes source.
 */
class KubernetesReconcilerTest {

  @Test
  void reconcilesWidgetsOnTheKubernetesMockServer() throws Exception {
    KubernetesMockServer server = MockKubernetes.crud();
    try (KubernetesClient client = server.createClient()) {
      KubernetesResources resources = KubernetesResources.create(client);
      ReconcilerScenario.run(resources.resources(Widget.class), resources.resources(ConfigMap.class), "shop");
    } finally {
      server.destroy();
    }
  }
}
