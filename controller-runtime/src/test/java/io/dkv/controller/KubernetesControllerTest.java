package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A ReplicaSet controller on fabric8's Kubernetes mock server (CRUD mode, on 127.0.0.1), over DKV informers with
 * the Kubernetes source: it keeps {@code spec.replicas} pods owned by each ReplicaSet, and reacts to its pods
 * through their owner references.
 */
class KubernetesControllerTest {

  private static final String NS = "test";
  /** Held so the level sticks (JUL keeps loggers weakly): the mock server logs every request at INFO. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private KubernetesMockServer server;
  private KubernetesClient client;
  private Manager manager;

  @BeforeEach
  void start() throws Exception {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init(InetAddress.getByName("127.0.0.1"), 0);
    client = server.createClient();
  }

  @AfterEach
  void stop() {
    if (manager != null) {
      manager.close();
    }
    client.close();
    server.destroy();
  }

  /**
   * The reconciler: pods {@code <rs>-0 .. <rs>-(replicas-1)}, each labelled {@code app=<rs>}. (The test does not
   * delete pods by hand and expect them back: the mock server sends a DELETED event with the pod's old
   * resourceVersion, which DKV's informer ignores as already seen; a real API server sends a new one.)
   */
  private Reconciler replicaSets(SharedIndexInformerPair informers, AtomicInteger reconciles) {
    return request -> {
      int n = reconciles.incrementAndGet();
      Optional<ReplicaSet> rs = informers.replicaSets.lister().get(request.key());
      if (rs.isEmpty()) {
        return Result.done(); // deleted: garbage collection removes the pods
      }
      int replicas = rs.get().getSpec().getReplicas();
      List<Pod> owned = informers.pods.lister().list().stream()
          .filter(p -> p.getMetadata().getOwnerReferences().stream()
              .anyMatch(o -> o.getName().equals(request.name())))
          .toList();
      Set<String> existing = owned.stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
      for (Pod p : owned) {
        if (!request.name().equals(p.getMetadata().getLabels().get("app"))) {
          client.pods().inNamespace(NS).withName(p.getMetadata().getName())
              .edit(q -> new PodBuilder(q).editMetadata().addToLabels("app", request.name()).endMetadata().build());
        }
      }
      for (int i = 0; i < replicas; i++) {
        String name = request.name() + "-" + i;
        if (!existing.contains(name)) {
          try {
            client.pods().inNamespace(NS).resource(pod(rs.get(), name, n)).create();
          } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
              throw e; // 409: the cache had not seen our own earlier create yet
            }
          }
        }
      }
      for (String name : existing) {
        int index = Integer.parseInt(name.substring(name.lastIndexOf('-') + 1));
        if (index >= replicas) {
          client.pods().inNamespace(NS).withName(name).delete();
        }
      }
      return Result.done();
    };
  }

  private static Pod pod(ReplicaSet owner, String name, int reconcile) {
    return new PodBuilder().withNewMetadata().withNamespace(NS).withName(name)
        .addToAnnotations("created-by-reconcile", String.valueOf(reconcile))
        .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet")
        .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).withController(true)
        .endOwnerReference().endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("nginx").endContainer().endSpec().build();
  }

  private record SharedIndexInformerPair(SharedIndexInformer<ReplicaSet> replicaSets, SharedIndexInformer<Pod> pods) {}

  private Set<String> podNames() {
    return client.pods().inNamespace(NS).list().getItems().stream().map(p -> p.getMetadata().getName())
        .collect(Collectors.toSet());
  }

  private void scale(String name, int replicas) {
    client.apps().replicaSets().inNamespace(NS).withName(name).edit(rs -> {
      rs.getSpec().setReplicas(replicas);
      return rs;
    });
  }

  @Test
  void keepsTheReplicasOfEachReplicaSet() {
    SharedIndexInformerPair informers = new SharedIndexInformerPair(
        SharedIndexInformer.builder(ListerWatchers.kubernetes(client, ReplicaSet.class, NS)).build(),
        SharedIndexInformer.builder(ListerWatchers.kubernetes(client, Pod.class, NS)).build());
    AtomicInteger reconciles = new AtomicInteger();
    manager = Manager.builder().build();
    manager.add(Controller.builder("replicasets").meterRegistry(manager.meterRegistry())
        .forKind(informers.replicaSets(), ReplicaSet.class)
        .owns(informers.pods())
        .withEventFilter(EventFilter.resourceVersionChanged())
        .workers(2)
        .build(replicaSets(informers, reconciles)));
    manager.start();

    client.apps().replicaSets().inNamespace(NS).resource(new ReplicaSetBuilder()
        .withNewMetadata().withName("web").withNamespace(NS).withUid("uid-web").endMetadata()
        .withNewSpec().withReplicas(2).endSpec().build()).create();
    await().until(() -> podNames().equals(Set.of("web-0", "web-1")));

    await().until(() -> "web".equals(client.pods().inNamespace(NS).withName("web-0").get().getMetadata()
        .getLabels().get("app")));
    // a change to a child reaches its owner's reconcile (owns): the label removed by hand is put back
    client.pods().inNamespace(NS).withName("web-0")
        .edit(q -> new PodBuilder(q).editMetadata().removeFromLabels("app").endMetadata().build());
    await().until(() -> "web".equals(client.pods().inNamespace(NS).withName("web-0").get().getMetadata()
        .getLabels().get("app")));

    scale("web", 3);
    await().until(() -> podNames().equals(Set.of("web-0", "web-1", "web-2")));
    scale("web", 1);
    await().until(() -> podNames().equals(Set.of("web-0")));
    assertNotEquals(0, reconciles.get());
    assertEquals(Set.of("test/web"), informers.replicaSets().lister().keys());
  }
}
