package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

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
 * A ReplicaSet controller on fabric8's Kubernetes mock server (CRUD mode, on 127.0.0.1): it keeps
 * {@code spec.replicas} pods owned by each ReplicaSet, and reacts to its pods through their owner references.
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

  /** The reconciler: pods {@code <rs>-0 .. <rs>-(replicas-1)}, each created with the reconcile's number. */
  private Reconciler replicaSets(SharedIndexInformerPair informers, AtomicInteger reconciles) {
    return request -> {
      int n = reconciles.incrementAndGet();
      Optional<ReplicaSet> rs = informers.replicaSets.lister().get(request.key());
      if (rs.isEmpty()) {
        return Result.done(); // deleted: garbage collection removes the pods
      }
      int replicas = rs.get().getSpec().getReplicas();
      Set<String> existing = informers.pods.lister().list().stream()
          .filter(p -> p.getMetadata().getOwnerReferences().stream()
              .anyMatch(o -> o.getName().equals(request.name())))
          .map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
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

  private record SharedIndexInformerPair(Fabric8Informer<ReplicaSet> replicaSets, Fabric8Informer<Pod> pods) {}

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
        new Fabric8Informer<>(client.apps().replicaSets().inNamespace(NS).runnableInformer(0)),
        new Fabric8Informer<>(client.pods().inNamespace(NS).runnableInformer(0)));
    AtomicInteger reconciles = new AtomicInteger();
    manager = Manager.builder().build();
    manager.add(Controller.builder("replicasets").meterRegistry(manager.meterRegistry())
        .forResource(informers.replicaSets(), ReplicaSet.class)
        .owns(informers.pods())
        .withEventFilter(EventFilter.resourceVersionChanged())
        .workers(2)
        .build(replicaSets(informers, reconciles)));
    manager.start();

    client.apps().replicaSets().inNamespace(NS).resource(new ReplicaSetBuilder()
        .withNewMetadata().withName("web").withNamespace(NS).withUid("uid-web").endMetadata()
        .withNewSpec().withReplicas(2).endSpec().build()).create();
    await().until(() -> podNames().equals(Set.of("web-0", "web-1")));

    String before = client.pods().inNamespace(NS).withName("web-0").get().getMetadata().getAnnotations()
        .get("created-by-reconcile");
    client.pods().inNamespace(NS).withName("web-0").delete();
    await().until(() -> {
      Pod p = client.pods().inNamespace(NS).withName("web-0").get();
      return p != null && !before.equals(p.getMetadata().getAnnotations().get("created-by-reconcile"));
    });

    scale("web", 3);
    await().until(() -> podNames().equals(Set.of("web-0", "web-1", "web-2")));
    scale("web", 1);
    await().until(() -> podNames().equals(Set.of("web-0")));
    assertNotEquals(0, reconciles.get());
    assertEquals(Set.of("test/web"), informers.replicaSets().lister().keys());
  }
}
