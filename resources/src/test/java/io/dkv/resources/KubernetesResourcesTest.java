package io.dkv.resources;

import io.dkv.testing.MockKubernetes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.informer.Item;
import io.dkv.informer.Page;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ResourceClient over fabric8 against fabric8's mock API server (CRUD mode): the behaviours controllers
 * rely on are the same as on DKV (see {@link ResourcesContract}).
 */
class KubernetesResourcesTest {
  private KubernetesMockServer server;
  private KubernetesClient kubernetes;
  private ResourceClient<ConfigMap> configMaps;
  private ResourceClient<Widget> widgets;

  @BeforeEach
  void start() {
    server = MockKubernetes.crud();
    kubernetes = server.createClient();
    KubernetesResources resources = KubernetesResources.create(kubernetes);
    configMaps = resources.resources(ConfigMap.class);
    widgets = resources.resources(Widget.class);
  }

  @AfterEach
  void stop() {
    kubernetes.close();
    server.destroy();
  }

  private static ConfigMap configMap(String ns, String name, Map<String, String> labels) {
    return new ConfigMapBuilder().withNewMetadata().withNamespace(ns).withName(name).withLabels(labels)
        .endMetadata().build();
  }

  @Test
  void crudWithConflictsAsOnDkv() {
    assertEquals("ConfigMap", configMaps.kind());
    assertEquals("v1", configMaps.apiVersion());
    ConfigMap created = configMaps.create(configMap("a", "c", Map.of()));
    assertNotNull(created.getMetadata().getUid());
    KubernetesClientException exists = assertThrows(KubernetesClientException.class,
        () -> configMaps.create(configMap("a", "c", Map.of())));
    assertEquals(409, exists.getCode());

    ConfigMap stale = configMaps.get("a", "c").orElseThrow();
    created.setData(Map.of("k", "1"));
    configMaps.update(created);
    stale.setData(Map.of("k", "2"));
    assertEquals(409, assertThrows(KubernetesClientException.class, () -> configMaps.update(stale)).getCode());
    assertEquals("1", configMaps.get("a", "c").orElseThrow().getData().get("k"));

    assertTrue(configMaps.delete("a", "c"));
    assertTrue(configMaps.get("a", "c").isEmpty());
    assertFalse(configMaps.delete("a", "c"));
  }

  @Test
  void concurrentReadModifyWriteLosesNoUpdate() throws Exception {
    widgets.create(Widget.of("a", "counter", 0));
    int writers = 4;
    int increments = 10;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<?>> futures = new java.util.ArrayList<>();
      for (int w = 0; w < writers; w++) {
        futures.add(pool.submit(() -> {
          for (int i = 0; i < increments; i++) {
            while (true) {
              Widget current = widgets.get("a", "counter").orElseThrow();
              current.getSpec().setCount(current.getSpec().getCount() + 1);
              try {
                widgets.update(current);
                break;
              } catch (KubernetesClientException e) {
                assertEquals(409, e.getCode(), e.getMessage());
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(1, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(writers * increments, widgets.get("a", "counter").orElseThrow().getSpec().getCount());
  }

  @Test
  void statusAndFinalizersAsOnDkv() {
    Widget w = Widget.of("a", "w", 1);
    w.getMetadata().setFinalizers(List.of("test.dkv.io/cleanup"));
    Widget created = widgets.create(w);
    Widget.Status ready = new Widget.Status();
    ready.setPhase("Ready");
    created.setStatus(ready);
    created.getSpec().setCount(5);
    Widget afterStatus = widgets.updateStatus(created);
    assertEquals("Ready", afterStatus.getStatus().getPhase());
    assertEquals(1, afterStatus.getSpec().getCount());
    assertEquals(created.getMetadata().getGeneration(), afterStatus.getMetadata().getGeneration());

    assertTrue(widgets.delete("a", "w"));
    Widget deleting = widgets.get("a", "w").orElseThrow();
    assertTrue(deleting.isMarkedForDeletion());
    deleting.removeFinalizer("test.dkv.io/cleanup");
    widgets.update(deleting);
    assertTrue(widgets.get("a", "w").isEmpty());
  }

  @Test
  void listsAndListerWatcherBySelector() {
    configMaps.create(configMap("a", "web", Map.of("tier", "web")));
    configMaps.create(configMap("a", "db", Map.of("tier", "db")));
    configMaps.create(configMap("b", "web", Map.of("tier", "web")));
    assertEquals(List.of("db", "web"), configMaps.list("a").stream().map(c -> c.getMetadata().getName()).toList());
    assertEquals(2, configMaps.list(null, Map.of("tier", "web")).size());
    assertEquals(List.of("a/db"), configMaps.listerWatcher("a", new LabelSelectorBuilder()
        .withMatchLabels(Map.of("tier", "db")).build()).list(0, null, 10).items().stream().map(Item::key).toList());
    Page<ConfigMap> all = configMaps.listerWatcher(null, null).list(0, null, 10);
    assertEquals(3, all.items().size());
  }
}
