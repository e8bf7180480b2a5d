package io.dkv.resources;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.DkvClient;
import io.dkv.testing.DkvProcess;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The garbage collector keeps working across a dkv-server killed (SIGKILL) and restarted on the same port and
 * data: owners deleted while the server was down or after it came back still have their dependents collected.
 */
class GarbageCollectorRestartTest {
  private static final List<String> JVM = List.of("-Xmx128m", "-XX:TieredStopAtLevel=1");

  @Test
  void collectsAfterTheServerRestarts(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("data");
    DkvProcess server = DkvProcess.start(data, 0, JVM);
    int port = server.port();
    try (DkvClient client = DkvClient.builder().endpoints(server.endpoint())
        .requestTimeout(Duration.ofSeconds(10)).build()) {
      DkvResources resources = DkvResources.create(client);
      ResourceClient<ConfigMap> maps = resources.resources(ConfigMap.class);
      ConfigMap first = maps.create(map("first", null));
      maps.create(map("first-child", first));
      ConfigMap second = maps.create(map("second", null));
      maps.create(map("second-child", second));

      try (GarbageCollector gc = resources.garbageCollector().start()) {
        await().atMost(Duration.ofSeconds(30)).until(gc::hasSynced);
        server.kill();
        server = DkvProcess.start(data, port, JVM);

        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> maps.delete("gc", "first"));
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
            .until(() -> maps.get("gc", "first-child").isEmpty());
        assertTrue(maps.get("gc", "second-child").isPresent(), "a dependent of a live owner stays");
        maps.delete("gc", "second");
        await().atMost(Duration.ofSeconds(30)).until(() -> maps.get("gc", "second-child").isEmpty());
      }
    } finally {
      server.close();
    }
  }

  private static ConfigMap map(String name, ConfigMap owner) {
    ConfigMapBuilder b = new ConfigMapBuilder().withNewMetadata().withNamespace("gc").withName(name).endMetadata();
    if (owner != null) {
      b.editMetadata().addNewOwnerReference().withApiVersion("v1").withKind("ConfigMap")
          .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).endOwnerReference()
          .endMetadata();
    }
    return b.build();
  }
}
