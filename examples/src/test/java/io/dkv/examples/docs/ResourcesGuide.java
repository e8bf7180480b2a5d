package io.dkv.examples.docs;

import io.dkv.client.DkvClient;
import io.dkv.controller.Manager;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.resources.DkvResources;
import io.dkv.resources.GarbageCollector;
import io.dkv.resources.ResourceClient;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/** The code of docs/resources.md, compiled here and partly run by {@link ResourcesGuideTest}. */
class ResourcesGuide {

  final ResourceClient<ConfigMap> configMaps;
  final ResourceClient<Widget> widgets;
  final ResourceClient<GenericKubernetesResource> gadgets;
  final DkvResources resources;

  ResourcesGuide(DkvClient dkvClient) {
    // region clients
    DkvResources resources = DkvResources.create(dkvClient);               // keys under /registry
    ResourceClient<ConfigMap> configMaps = resources.resources(ConfigMap.class);
    ResourceClient<Widget> widgets = resources.resources(Widget.class);    // @Group/@Version CustomResource
    ResourceClient<GenericKubernetesResource> gadgets = resources.genericResources(
        new ResourceDefinitionContext.Builder().withGroup("example.com").withVersion("v1")
            .withKind("Gadget").withPlural("gadgets").withNamespaced(true).build());
    // endregion
    this.resources = resources;
    this.configMaps = configMaps;
    this.widgets = widgets;
    this.gadgets = gadgets;
  }

  void increment() {
    // region optimistic-update
    while (true) {
      Widget w = widgets.get("shop", "counter").orElseThrow();
      w.getSpec().setCount(w.getSpec().getCount() + 1);
      try {
        widgets.update(w);
        break;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) throw e;   // someone else wrote first: read again
      }
    }
    // endregion
  }

  SharedIndexInformer<Widget> informer() {
    // region informer
    SharedIndexInformer<Widget> informer = SharedIndexInformer
        .builder(widgets.listerWatcher("shop", null))
        .build().start();
    // endregion
    return informer;
  }

  void garbageCollector(Runnable work, Manager manager) {
    // region garbage-collector
    try (GarbageCollector gc = resources.garbageCollector().start()) {   // a manager of its own
      work.run();                                                         // delete owners; their dependents follow
    }
    manager.add(resources.garbageCollector().controller());               // or under yours (leader election)
    // endregion
  }
}
