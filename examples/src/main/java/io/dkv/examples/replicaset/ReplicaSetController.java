package io.dkv.examples.replicaset;

import io.dkv.client.DkvClient;
import io.dkv.controller.Controller;
import io.dkv.controller.Manager;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.resources.DkvResources;
import io.dkv.resources.GarbageCollector;
import io.dkv.resources.ResourceClient;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;

/**
 * One running instance of the controller process: informers on ReplicaSets and pods, the controller, and the
 * garbage collector. It holds no state of its own: everything is in the store, so a new instance (after a
 * restart of the process or of the server) picks up where the last one stopped.
 */
final class ReplicaSetController implements AutoCloseable {

  private final Manager manager;
  private final GarbageCollector gc;

  // region wiring
  ReplicaSetController(DkvClient client, String namespace) {
    DkvResources resources = DkvResources.create(client);
    ResourceClient<ReplicaSet> replicaSetClient = resources.resources(ReplicaSet.class);
    ResourceClient<Pod> podClient = resources.resources(Pod.class);
    SharedIndexInformer<ReplicaSet> replicaSets = SharedIndexInformer
        .builder(replicaSetClient.listerWatcher(namespace, null)).name("replicasets").build();
    SharedIndexInformer<Pod> pods = SharedIndexInformer
        .builder(podClient.listerWatcher(namespace, null)).name("pods")
        .index(ReplicaSetReconciler.BY_OWNER, ReplicaSetReconciler::ownerUid)
        .build();
    manager = Manager.builder().build();
    manager.add(Controller.builder("replicasets").meterRegistry(manager.meterRegistry())
        .forKind(replicaSets, ReplicaSet.class)      // a ReplicaSet changed: reconcile it
        .owns(pods)                                      // a pod changed: reconcile its owner
        .workers(2)
        .build(new ReplicaSetReconciler(replicaSets, pods, podClient)));
    gc = resources.garbageCollector();
  }
  // endregion

  /** Starts the garbage collector and the manager; returns once the informers have synced. */
  ReplicaSetController start() {
    gc.start();
    manager.start();
    return this;
  }

  @Override
  public void close() {
    manager.close();
    gc.close();
  }
}
