package io.dkv.resources;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.controller.Controller;
import io.dkv.informer.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The same {@link WidgetReconciler}, in the same controller, over any pair of {@link ResourceClient}s: run by
 * {@link DkvReconcilerTest} on DKV and by {@link KubernetesReconcilerTest} on fabric8's mock API server.
 */
final class ReconcilerScenario {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private ReconcilerScenario() {
  }

  static void run(ResourceClient<Widget> widgets, ResourceClient<ConfigMap> configMaps, String ns) throws Exception {
    // region same-controller (shown in docs/resources.md)
    SharedIndexInformer<Widget> widgetInformer = SharedIndexInformer.builder(widgets.listerWatcher(ns, null))
        .name("widgets").backoff(Duration.ofMillis(50), Duration.ofSeconds(1)).build();
    SharedIndexInformer<ConfigMap> configInformer = SharedIndexInformer
        .builder(configMaps.listerWatcher(ns, null)).name("configmaps")
        .backoff(Duration.ofMillis(50), Duration.ofSeconds(1)).build();
    Controller controller = Controller.builder("widgets")
        .forKind(widgetInformer, Widget.class)
        .owns(configInformer)
        .workers(2)
        .build(new WidgetReconciler(widgets, configMaps, widgetInformer.lister()));
    // endregion
    try (widgetInformer; configInformer) {
      widgetInformer.start();
      configInformer.start();
      await().atMost(WAIT).until(() -> widgetInformer.hasSynced() && configInformer.hasSynced());
      controller.start();
      try {
        widgets.create(Widget.of(ns, "w", 3));
        await().atMost(WAIT).until(() -> ready(widgets, ns) && count(configMaps, ns).equals(Optional.of("3")));
        Widget w = widgets.get(ns, "w").orElseThrow();
        assertEquals(List.of(WidgetReconciler.FINALIZER), w.getMetadata().getFinalizers());

        w.getSpec().setCount(5);
        updateWithRetry(widgets, ns, 5);
        await().atMost(WAIT).until(() -> ready(widgets, ns) && count(configMaps, ns).equals(Optional.of("5")));

        configMaps.delete(ns, "w-config"); // the owned object is put back
        await().atMost(WAIT).until(() -> count(configMaps, ns).equals(Optional.of("5")));

        assertTrue(widgets.delete(ns, "w")); // the finalizer cleans up, then the widget goes
        await().atMost(WAIT).until(() -> widgets.get(ns, "w").isEmpty());
        assertTrue(configMaps.get(ns, "w-config").isEmpty());
      } finally {
        controller.stop();
      }
    }
  }

  private static boolean ready(ResourceClient<Widget> widgets, String ns) {
    return widgets.get(ns, "w").map(w -> w.getStatus() != null && "Ready".equals(w.getStatus().getPhase())
        && w.getMetadata().getGeneration().equals(w.getStatus().getObservedGeneration())).orElse(false);
  }

  private static Optional<String> count(ResourceClient<ConfigMap> configMaps, String ns) {
    return configMaps.get(ns, "w-config").map(c -> c.getData() == null ? null : c.getData().get("count"));
  }

  private static void updateWithRetry(ResourceClient<Widget> widgets, String ns, int count) {
    await().atMost(WAIT).ignoreExceptions().until(() -> {
      Widget w = widgets.get(ns, "w").orElseThrow();
      w.getSpec().setCount(count);
      widgets.update(w);
      return true;
    });
  }
}
