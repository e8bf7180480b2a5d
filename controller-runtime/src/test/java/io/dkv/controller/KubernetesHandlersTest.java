package io.dkv.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KubernetesHandlersTest {

  private static Pod pod(String name, long generation, String resourceVersion, Map<String, String> labels) {
    return new PodBuilder().withNewMetadata().withNamespace("ns").withName(name).withGeneration(generation)
        .withResourceVersion(resourceVersion).withLabels(labels).endMetadata().build();
  }

  private static Pod ownedPod(String name) {
    return new PodBuilder().withNewMetadata().withNamespace("ns").withName(name)
        .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName("rs-1")
        .withController(true).withUid("u1").endOwnerReference()
        .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName("rs-2")
        .withController(false).withUid("u2").endOwnerReference()
        .addNewOwnerReference().withApiVersion("v1").withKind("Namespace").withName("ns")
        .withUid("u3").endOwnerReference()
        .addNewOwnerReference().withApiVersion("example.com/v1").withKind("ReplicaSet").withName("other-group")
        .withController(true).withUid("u4").endOwnerReference()
        .endMetadata().build();
  }

  @Test
  void requestsOfKubernetesObjects() {
    assertEquals(new Request("ns/web", "ns", "web"), Request.of(pod("web", 1, "1", Map.of())));
    assertEquals(new Request("node-1", "", "node-1"), Request.of("", "node-1"));
    assertEquals(new Request("/jobs/a", "", "/jobs/a"), Request.ofKey("/jobs/a"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Request("a/b", "x", "b"));
    assertEquals("key a/b does not match namespace x and name b (expected x/b)", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Request.of(new ConfigMap()));
  }

  @Test
  void enqueueObjectAndOwners() {
    List<Request> q = new ArrayList<>();
    EventHandler.<Pod>enqueueObject().onAdd(pod("web", 1, "1", Map.of()), q::add);
    assertEquals(List.of(Request.of("ns", "web")), q);

    q.clear();
    EventHandler.<Pod>enqueueOwner(ReplicaSet.class, true).onAdd(ownedPod("p"), q::add);
    assertEquals(List.of(Request.of("ns", "rs-1")), q, "only the controller owner of group apps");

    q.clear();
    EventHandler.<Pod>enqueueOwner(ReplicaSet.class, false).onDelete(ownedPod("p"), q::add);
    assertEquals(List.of(Request.of("ns", "rs-1"), Request.of("ns", "rs-2")), q);

    q.clear();
    EventHandler.<Pod>enqueueOwner(Namespace.class, false).onAdd(ownedPod("p"), q::add);
    assertEquals(List.of(Request.of("", "ns")), q, "a cluster-scoped owner has no namespace");

    q.clear();
    EventHandler.<Pod>enqueueOwner(ReplicaSet.class, true).onAdd(pod("lonely", 1, "1", Map.of()), q::add);
    assertEquals(List.of(), q);
  }

  @Test
  void enqueueMappedSeesTheObjectBeforeAndAfterAnUpdate() {
    List<Request> q = new ArrayList<>();
    EventHandler<Pod> byApp = EventHandler.enqueueMapped(
        p -> List.of(Request.of("ns", "app-" + p.getMetadata().getLabels().get("app"))));
    byApp.onUpdate(pod("p", 1, "1", Map.of("app", "a")), pod("p", 1, "2", Map.of("app", "b")), q::add);
    assertEquals(List.of(Request.of("ns", "app-a"), Request.of("ns", "app-b")), q);
  }

  @Test
  void generationAndResourceVersionFilters() {
    Pod v1 = pod("p", 1, "10", Map.of());
    Pod statusOnly = pod("p", 1, "11", Map.of());
    Pod specChange = pod("p", 2, "12", Map.of());
    EventFilter<Pod> gen = EventFilter.generationChanged();
    EventFilter<Pod> rv = EventFilter.resourceVersionChanged();
    assertFalse(gen.update(v1, statusOnly));
    assertTrue(gen.update(statusOnly, specChange));
    assertTrue(gen.add(v1));
    assertTrue(gen.delete(v1));
    assertTrue(rv.update(v1, statusOnly));
    assertFalse(rv.update(v1, v1), "a resync re-delivers the same version");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EventFilter.generationChanged().update("a", "b"));
    assertEquals("this filter reads Kubernetes metadata, but got a java.lang.String, which is not a HasMetadata",
        e.getMessage());
  }

  @Test
  void labelSelectors() {
    Pod web = pod("p", 1, "1", Map.of("app", "web", "tier", "front"));
    Pod db = pod("q", 1, "1", Map.of("app", "db"));
    assertTrue(EventFilter.<Pod>labelSelector(Map.of("app", "web")).add(web));
    assertFalse(EventFilter.<Pod>labelSelector(Map.of("app", "web")).add(db));
    LabelSelector sel = new LabelSelectorBuilder()
        .addNewMatchExpression().withKey("app").withOperator("In").withValues("web", "api").endMatchExpression()
        .addNewMatchExpression().withKey("tier").withOperator("Exists").endMatchExpression()
        .addNewMatchExpression().withKey("canary").withOperator("DoesNotExist").endMatchExpression()
        .build();
    EventFilter<Pod> f = EventFilter.labelSelector(sel);
    assertTrue(f.add(web));
    assertFalse(f.add(db));
    assertTrue(f.update(web, db), "leaving the selection passes");
    assertTrue(EventFilter.<Pod>labelSelector(new LabelSelector()).add(db), "empty selects everything");
    LabelSelector notIn = new LabelSelectorBuilder()
        .addNewMatchExpression().withKey("app").withOperator("NotIn").withValues("web").endMatchExpression().build();
    assertTrue(EventFilter.<Pod>labelSelector(notIn).add(db));
    assertFalse(EventFilter.<Pod>labelSelector(notIn).add(web));
    LabelSelector bad = new LabelSelectorBuilder()
        .addNewMatchExpression().withKey("app").withOperator("Like").endMatchExpression().build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EventFilter.labelSelector(bad));
    assertEquals("unknown label selector operator 'Like' for key app (expected In, NotIn, Exists or DoesNotExist)",
        e.getMessage());
  }

  @Test
  void filtersCompose() {
    Pod a1 = pod("p", 1, "1", Map.of("app", "a"));
    Pod a2 = pod("p", 2, "2", Map.of("app", "a"));
    Pod b1 = pod("p", 1, "3", Map.of("app", "b"));
    EventFilter<Pod> user = EventFilter.of(p -> p.getMetadata().getName().startsWith("p"));
    EventFilter<Pod> spec = EventFilter.<Pod>generationChanged().and(user);
    assertTrue(spec.update(a1, a2));
    assertFalse(spec.update(a1, b1));
    EventFilter<Pod> specOrLabels = EventFilter.<Pod>generationChanged().or(EventFilter.labelsChanged());
    assertTrue(specOrLabels.update(a1, b1));
    assertFalse(specOrLabels.update(a1, a1));
    assertTrue(EventFilter.not(specOrLabels).update(a1, a1));
    assertFalse(user.negate().add(a1));
    ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName("x").endMetadata().build();
    assertFalse(EventFilter.<ConfigMap>of(c -> c.getMetadata().getName().equals("y")).add(cm));
  }
}
