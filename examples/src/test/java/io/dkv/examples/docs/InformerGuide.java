package io.dkv.examples.docs;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.ResourceEventHandler;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.informer.WatchedCache;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Optional;

/** The code of docs/kubernetes-and-watched-cache.md, compiled here (the informer module's tests cover what it does). */
class InformerGuide {

  /** The value type of the cache example. */
  record User(String name, String email) {
  }

  static SharedIndexInformer<ConfigMap> kubernetes(ResourceEventHandler<ConfigMap> handler) {
    // region kubernetes-informer
    KubernetesClient k8s = new KubernetesClientBuilder().build();
    SharedIndexInformer<ConfigMap> maps = SharedIndexInformer
        .builder(ListerWatchers.kubernetes(k8s, ConfigMap.class, "default"))   // null namespace: all namespaces
        .build();
    maps.addEventHandler(handler);
    maps.start();
    // only some objects: ListerWatchers.kubernetes(k8s, Pod.class, null, "app=web,tier!=cache")
    // endregion
    return maps;
  }

  static void watchedCache(DkvClient dkvClient, MeterRegistry registry) {
    // region watched-cache
    try (WatchedCache<User> users = WatchedCache.builder(dkvClient, "users/", Codec.json(User.class))
        .maximumSize(100_000)
        .meterRegistry(registry)
        .build()) {
      Optional<User> u = users.get("users/alice");      // a miss reads the server once; later gets are local
    }
    // endregion
  }
}
