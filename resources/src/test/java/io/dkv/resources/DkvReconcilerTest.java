package io.dkv.resources;

import io.dkv.client.DkvClient;
import io.dkv.server.DkvServer;
import io.dkv.server.testing.EtcdProcess;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link WidgetReconciler} on DKV resources, on dkv-server and on a real etcd. */
class DkvReconcilerTest {

  @Test
  void reconcilesWidgetsOnDkvServer(@TempDir Path dir) throws Exception {
    try (DkvServer server = DkvServer.builder().dataDir(dir).port(0).start();
        DkvClient client = DkvClient.connect(server.endpoint())) {
      DkvResources resources = DkvResources.create(client);
      ReconcilerScenario.run(resources.resources(Widget.class), resources.resources(ConfigMap.class), "shop");
    }
  }

  @Test
  void reconcilesWidgetsOnEtcd() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start();
        DkvClient client = DkvClient.connect(etcd.endpoint())) {
      DkvResources resources = DkvResources.create(client);
      ReconcilerScenario.run(resources.resources(Widget.class), resources.resources(ConfigMap.class), "shop");
    }
  }
}
