package io.dkv.examples.replicaset;

import io.dkv.controller.Reconciler;
import io.dkv.controller.Request;
import io.dkv.controller.Result;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.resources.ResourceClient;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keeps {@code spec.replicas} pods for each ReplicaSet: pods named {@code <replicaset>-0 .. -(n-1)}, each with an
 * owner reference (controller: true) to the ReplicaSet's uid. Level-triggered: it compares the cached state with
 * the desired one and creates or deletes the difference, whatever event caused the call, so it is idempotent
 * and needs no memory of its own. Deleted ReplicaSets are left to the garbage collector, which removes the pods
 * whose owner is gone.
 */
final class ReplicaSetReconciler implements Reconciler {

  /** The pods informer's index of pods by their controller owner's uid. */
  static final String BY_OWNER = "owner-uid";

  private final SharedIndexInformer<ReplicaSet> replicaSets;
  private final SharedIndexInformer<Pod> pods;
  private final ResourceClient<Pod> podClient;

  ReplicaSetReconciler(SharedIndexInformer<ReplicaSet> replicaSets, SharedIndexInformer<Pod> pods,
      ResourceClient<Pod> podClient) {
    this.replicaSets = replicaSets;
    this.pods = pods;
    this.podClient = podClient;
  }

  /** The uid of a pod's controller owner, for the {@link #BY_OWNER} index. */
  static List<String> ownerUid(Pod pod) {
    return pod.getMetadata().getOwnerReferences().stream()
        .filter(o -> Boolean.TRUE.equals(o.getController())).map(OwnerReference::getUid).toList();
  }

  // region reconcile
  @Override
  public Result reconcile(Request request) {
    Optional<ReplicaSet> found = replicaSets.lister().get(request.key());
    if (found.isEmpty() || found.get().getMetadata().getDeletionTimestamp() != null) {
      return Result.done();                              // gone: the garbage collector removes its pods
    }
    ReplicaSet rs = found.get();
    int want = rs.getSpec().getReplicas();
    Set<String> have = pods.lister().byIndex(BY_OWNER, rs.getMetadata().getUid()).stream()
        .map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
    for (int i = 0; i < want; i++) {                     // create the missing ones
      String name = rs.getMetadata().getName() + "-" + i;
      if (!have.contains(name)) {
        try {
          podClient.create(pod(rs, name));
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;                                     // 409: created before, not yet in the cache
          }
        }
      }
    }
    for (String name : have) {                           // delete the surplus
      if (index(name) >= want) {
        podClient.delete(request.namespace(), name);
      }
    }
    return Result.done();
  }

  private static Pod pod(ReplicaSet owner, String name) {
    return new PodBuilder()
        .withNewMetadata().withNamespace(owner.getMetadata().getNamespace()).withName(name)
          .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet")
            .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).withController(true)
          .endOwnerReference()
        .endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("nginx").endContainer().endSpec()
        .build();
  }
  // endregion

  private static int index(String podName) {
    try {
      return Integer.parseInt(podName.substring(podName.lastIndexOf('-') + 1));
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;                          // not one of ours by name: surplus
    }
  }
}
