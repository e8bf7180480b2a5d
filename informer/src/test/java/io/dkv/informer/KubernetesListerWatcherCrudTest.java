package io.dkv.informer;

import io.dkv.testing.MockKubernetes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Kubernetes source against fabric8's mock server in CRUD mode (a working in-memory API server). */
class KubernetesListerWatcherCrudTest {

  private KubernetesMockServer server;
  private KubernetesClient client;

  @BeforeEach
  void start() {
    server = MockKubernetes.crud();
    client = server.createClient();
  }

  @AfterEach
  void stop() {
    client.close();
    server.destroy();
  }

  private ConfigMap create(String namespace, String name, String value) {
    return client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).withLabels(Map.of("app", name.startsWith("web") ? "web" : "db")).endMetadata()
        .withData(Map.of("v", value)).build()).create();
  }

  @Test
  void listsOneNamespaceWithKeysAndRevisions() {
    ConfigMap a = create("ns1", "web-a", "1");
    ConfigMap b = create("ns1", "db-b", "1");
    create("ns2", "web-c", "1");

    Page<ConfigMap> page = ListerWatchers.kubernetes(client, ConfigMap.class, "ns1").list(0, null, 100);

    assertEquals(Set.of("ns1/web-a", "ns1/db-b"), keys(page));
    Item<ConfigMap> itemA = page.items().stream().filter(i -> i.key().equals("ns1/web-a")).findFirst().orElseThrow();
    assertEquals(Long.parseLong(a.getMetadata().getResourceVersion()), itemA.revision());
    assertEquals("1", itemA.object().getData().get("v"));
    assertTrue(page.revision() >= Long.parseLong(b.getMetadata().getResourceVersion()), "list revision " + page.revision());
    assertFalse(page.hasMore());
  }

  @Test
  void listsAllNamespacesAndBySelector() {
    create("ns1", "web-a", "1");
    create("ns1", "db-b", "1");
    create("ns2", "web-c", "1");

    assertEquals(Set.of("ns1/web-a", "ns1/db-b", "ns2/web-c"),
        keys(ListerWatchers.kubernetes(client, ConfigMap.class, null).list(0, null, 100)));
    assertEquals(Set.of("ns1/web-a", "ns2/web-c"),
        keys(ListerWatchers.kubernetes(client, ConfigMap.class, null, "app=web").list(0, null, 100)));
  }

  @Test
  void watchDeliversCreatesUpdatesAndDeletesInOrder() throws Exception {
    ListerWatcher<ConfigMap> source = ListerWatchers.kubernetes(client, ConfigMap.class, "ns1");
    long listed = source.list(0, null, 100).revision();
    List<Event<ConfigMap>> events = new CopyOnWriteArrayList<>();
    RecordingSink sink = new RecordingSink(events);
    try (AutoCloseable watch = source.watch(listed, sink)) {
      await().until(() -> server.getLastRequest() != null && server.getLastRequest().getPath().contains("watch=true"));
      create("ns1", "web-a", "1");
      client.configMaps().inNamespace("ns1").withName("web-a").edit(cm -> {
        cm.getData().put("v", "2");
        return cm;
      });
      create("ns2", "other", "1"); // another namespace: not seen
      client.configMaps().inNamespace("ns1").withName("web-a").delete();

      await().until(() -> events.size() >= 3);
      assertEquals(List.of(Event.Type.ADDED, Event.Type.MODIFIED, Event.Type.DELETED),
          events.stream().map(Event::type).toList());
      assertEquals(Set.of("ns1/web-a"), events.stream().map(Event::key).collect(Collectors.toSet()));
      assertEquals("2", events.get(1).object().getData().get("v"));
      assertTrue(events.get(0).revision() > listed, "first event after the list");
      assertTrue(events.get(0).revision() < events.get(1).revision(), "revisions ascend: " + events);
      // the mock reports a deletion at the object's last resourceVersion (a real API server uses a new one)
      assertTrue(events.get(1).revision() <= events.get(2).revision(), "revisions ascend: " + events);
    }
    assertEquals(0, sink.closedCalls, "closing by the caller is not reported to the sink");
  }

  @Test
  void clusterScopedKindsAreKeyedByName() {
    client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder()
        .withNewMetadata().withName("team-a").endMetadata().build()).create();

    Page<io.fabric8.kubernetes.api.model.Namespace> page =
        ListerWatchers.kubernetes(client, io.fabric8.kubernetes.api.model.Namespace.class, null).list(0, null, 10);

    assertEquals(Set.of("team-a"), keys(page));
  }

  @Test
  void watchHonoursTheLabelSelector() throws Exception {
    ListerWatcher<ConfigMap> source = ListerWatchers.kubernetes(client, ConfigMap.class, "ns1", "app=web");
    List<Event<ConfigMap>> events = new CopyOnWriteArrayList<>();
    try (AutoCloseable watch = source.watch(0, new RecordingSink(events))) {
      await().until(() -> server.getLastRequest() != null && server.getLastRequest().getPath().contains("watch=true"));
      create("ns1", "db-x", "1");
      create("ns1", "web-y", "1");
      await().until(() -> !events.isEmpty());
      create("ns1", "web-z", "1");
      await().until(() -> events.size() >= 2);
      assertEquals(List.of("ns1/web-y", "ns1/web-z"), events.stream().map(Event::key).toList());
    }
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> ListerWatchers.kubernetes(client, ConfigMap.class, " "));
    assertThrows(NullPointerException.class, () -> ListerWatchers.kubernetes(client, ConfigMap.class, null, null));
    ListerWatcher<ConfigMap> source = ListerWatchers.kubernetes(client, ConfigMap.class, "ns1");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> source.list(0, null, 0));
    assertTrue(e.getMessage().contains("limit"), e.getMessage());
    assertEquals("k8s:ConfigMap/ns1", source.description());
  }

  static Set<String> keys(Page<?> page) {
    return page.items().stream().map(Item::key).collect(Collectors.toSet());
  }

  /** Records what a watch delivers. */
  static class RecordingSink implements WatchSink<ConfigMap> {
    final List<Event<ConfigMap>> events;
    volatile int closedCalls;
    volatile Throwable cause;

    RecordingSink(List<Event<ConfigMap>> events) {
      this.events = events;
    }

    @Override
    public void event(Event<ConfigMap> event) {
      events.add(event);
    }

    @Override
    public void closed(Throwable cause) {
      this.cause = cause;
      closedCalls++;
    }
  }
}
