package io.dkv.resources;

import io.dkv.client.DkvClient;
import io.dkv.testing.TestServer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link WidgetReconciler} on DKV resources, on dkv-server and on a real etcd. */
class DkvReconcilerTest {

  @Test
  void reconcilesWidgetsOnDkvServer(@TempDir Path dir) throws Exception {
    reconcileOn(TestServer.DKV, dir);
  }

  @Test
  void reconcilesWidgetsOnEtcd(@TempDir Path dir) throws Exception {
    reconcileOn(TestServer.ETCD, dir);
  }

  private static void reconcileOn(TestServer kind, Path dir) throws Exception {
    try (TestServer.Running server = kind.start(dir);
        DkvClient client = DkvClient.connect(server.endpoint())) {
      DkvResources resources = DkvResources.create(client);
      ReconcilerScenario.run(resources.resources(Widget.class), resources.resources(ConfigMap.class), "shop");
    }
  }
}
