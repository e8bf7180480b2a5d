package io.dkv.informer;

import io.dkv.testing.MockKubernetes;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ConfigMapListBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A {@link SharedIndexInformer} over ConfigMaps of fabric8's mock API server, through the Kubernetes source. */
class KubernetesInformerTest {

  private KubernetesMockServer server;
  private KubernetesClient client;
  private SimpleMeterRegistry registry;

  @BeforeEach
  void start() {
    server = MockKubernetes.crud();
    client = server.createClient();
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void stop() {
    client.close();
    server.destroy();
  }

  private void put(String name, String value) {
    client.configMaps().inNamespace("ns1").resource(new ConfigMapBuilder()
        .withNewMetadata().withName(name).withNamespace("ns1").withLabels(Map.of("tier", value)).endMetadata()
        .withData(Map.of("v", value)).build()).createOr(existing -> existing.update());
  }

  /**
   * Deletes through a finalizer. fabric8's mock reports a plain deletion at the object's last resourceVersion,
   * which a watcher rightly takes for an old event (a real API server reports it at a new one); a deletion that
   * waits for a finalizer is reported at the resourceVersion of the write that removes the finalizer.
   */
  private void deleteWithNewRevision(String name) {
    var resource = client.configMaps().inNamespace("ns1").withName(name);
    resource.edit(cm -> new ConfigMapBuilder(cm).editMetadata().addToFinalizers("test/hold").endMetadata().build());
    resource.delete();
    resource.edit(cm -> new ConfigMapBuilder(cm).editMetadata().withFinalizers(List.of()).endMetadata().build());
  }

  private static String value(Optional<ConfigMap> cm) {
    return cm.map(c -> c.getData().get("v")).orElse(null);
  }

  private SharedIndexInformer<ConfigMap> informer() {
    return SharedIndexInformer.builder(ListerWatchers.kubernetes(client, ConfigMap.class, "ns1"))
        .name("configmaps")
        .index("byTier", cm -> List.of(cm.getMetadata().getLabels().get("tier")))
        .pageSize(2)
        .backoff(Duration.ofMillis(20), Duration.ofMillis(200))
        .meterRegistry(registry)
        .build();
  }

  /** Waits until the informer's watch request has reached the mock (the mock misses changes made before it). */
  private void awaitWatchOpen() {
    await().until(() -> server.getLastRequest() != null && server.getLastRequest().getPath().contains("watch=true"));
  }

  @Test
  void cacheFollowsCreatesUpdatesAndDeletes() {
    put("a", "1");
    put("b", "1");
    put("c", "1");
    List<String> seen = new CopyOnWriteArrayList<>();
    try (SharedIndexInformer<ConfigMap> informer = informer()) {
      informer.addEventHandler(new ResourceEventHandler<>() {
        @Override
        public void onAdd(ConfigMap cm, boolean initial) {
          seen.add("add " + cm.getMetadata().getName() + (initial ? " initial" : ""));
        }

        @Override
        public void onUpdate(ConfigMap before, ConfigMap after) {
          seen.add("update " + after.getMetadata().getName() + " " + after.getData().get("v"));
        }

        @Override
        public void onDelete(ConfigMap cm, boolean finalStateUnknown) {
          seen.add("delete " + cm.getMetadata().getName());
        }
      });
      informer.start();
      await().until(informer::hasSynced);
      assertEquals(java.util.Set.of("ns1/a", "ns1/b", "ns1/c"), informer.lister().keys());
      awaitWatchOpen();

      put("d", "2");
      put("a", "2");
      deleteWithNewRevision("b");

      await().until(() -> "2".equals(value(informer.lister().get("ns1/a")))
          && informer.lister().get("ns1/b").isEmpty() && informer.lister().get("ns1/d").isPresent());
      assertEquals(java.util.Set.of("ns1/a", "ns1/c", "ns1/d"), informer.lister().keys());
      assertEquals(List.of("a", "d"), informer.lister().byIndex("byTier", "2").stream()
          .map(cm -> cm.getMetadata().getName()).toList());
      await().until(() -> seen.contains("delete b"));
      assertTrue(seen.containsAll(List.of("add a initial", "add b initial", "add c initial", "add d", "update a 2",
          "delete b")), seen.toString());
      assertEquals(0.0, registry.get("informer.relists").counter().count());
    }
  }

  /**
   * Scripted on an expectation-mode mock, so what each request returns is exact: list at 10, a watch from 10
   * that ends with 410 Gone, a relist at 20 with an object the first watch never reported, a watch from 20.
   */
  @Test
  void goneWatchRelists() {
    KubernetesMockServer scripted = MockKubernetes.expectations();
    KubernetesClient scriptedClient = scripted.createClient();
    String path = "/api/v1/namespaces/ns1/configmaps";
    scripted.expect().get().withPath(path + "?limit=2").andReturn(200, new ConfigMapListBuilder()
        .withNewMetadata().withResourceVersion("10").endMetadata().withItems(map("a", "5")).build()).once();
    scripted.expect().withPath(path + "?allowWatchBookmarks=true&resourceVersion=10&watch=true")
        .andUpgradeToWebSocket().open()
        .waitFor(100).andEmit(new WatchEvent(new StatusBuilder().withCode(410).withReason("Expired")
            .withStatus("Failure").withMessage("too old resource version: 10 (15)").build(), "ERROR"))
        .done().once();
    scripted.expect().get().withPath(path + "?limit=2").andReturn(200, new ConfigMapListBuilder()
        .withNewMetadata().withResourceVersion("20").endMetadata().withItems(map("a", "5"), map("b", "18")).build())
        .once();
    scripted.expect().withPath(path + "?allowWatchBookmarks=true&resourceVersion=20&watch=true")
        .andUpgradeToWebSocket().open()
        .waitFor(100).andEmit(new WatchEvent(map("c", "21"), "ADDED"))
        .done().always();

    try (SharedIndexInformer<ConfigMap> informer = SharedIndexInformer
        .builder(ListerWatchers.kubernetes(scriptedClient, ConfigMap.class, "ns1"))
        .name("scripted").pageSize(2).backoff(Duration.ofMillis(20), Duration.ofMillis(200))
        .meterRegistry(registry).build()) {
      List<String> seen = new CopyOnWriteArrayList<>();
      informer.addEventHandler(new ResourceEventHandler<>() {
        @Override
        public void onAdd(ConfigMap cm, boolean initial) {
          seen.add(cm.getMetadata().getName() + "@" + cm.getMetadata().getResourceVersion());
        }
      });
      informer.start();

      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().keys().size() == 3);
      assertEquals(java.util.Set.of("ns1/a", "ns1/b", "ns1/c"), informer.lister().keys());
      assertEquals(21, informer.lister().revision());
      assertEquals(1.0, registry.get("informer.relists").counter().count());
      await().until(() -> seen.size() == 3);
      assertEquals(List.of("a@5", "b@18", "c@21"), seen, "b found by the relist, c by the watch after it");
    } finally {
      scriptedClient.close();
      scripted.destroy();
    }
  }

  private static ConfigMap map(String name, String resourceVersion) {
    return new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace("ns1")
        .withResourceVersion(resourceVersion).endMetadata().build();
  }

}
