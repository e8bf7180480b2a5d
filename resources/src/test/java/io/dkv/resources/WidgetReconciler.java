package io.dkv.resources;

import io.dkv.controller.Reconciler;
import io.dkv.controller.Request;
import io.dkv.controller.Result;
import io.dkv.informer.Lister;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A reconciler written only against {@link ResourceClient} and {@link Lister}, so it runs unchanged on DKV and
 * on a Kubernetes API. For each Widget it keeps a ConfigMap {@code <name>-config} (controlled by the widget)
 * holding {@code spec.count}, reports {@code status.phase = Ready} and {@code status.observedGeneration}, and
 * with a finalizer deletes the ConfigMap before the widget goes.
 */
final class WidgetReconciler implements Reconciler {
  static final String FINALIZER = "test.dkv.io/config-cleanup";

  private final ResourceClient<Widget> widgets;
  private final ResourceClient<ConfigMap> configMaps;
  private final Lister<Widget> cache;

  WidgetReconciler(ResourceClient<Widget> widgets, ResourceClient<ConfigMap> configMaps, Lister<Widget> cache) {
    this.widgets = widgets;
    this.configMaps = configMaps;
    this.cache = cache;
  }

  static String configName(Widget w) {
    return w.getMetadata().getName() + "-config";
  }

  @Override
  public Result reconcile(Request request) {
    Optional<Widget> cached = cache.get(request.key());
    if (cached.isEmpty()) {
      return Result.done(); // gone; owned objects go with it
    }
    Widget widget = cached.get();
    String ns = widget.getMetadata().getNamespace();
    if (widget.isMarkedForDeletion()) {
      if (widget.hasFinalizer(FINALIZER)) {
        configMaps.delete(ns, configName(widget));
        Optional<Widget> fresh = widgets.get(ns, widget.getMetadata().getName());
        if (fresh.isPresent() && fresh.get().removeFinalizer(FINALIZER)) {
          widgets.update(fresh.get()); // a stale read fails with 409 and is retried
        }
      }
      return Result.done();
    }
    if (!widget.hasFinalizer(FINALIZER)) {
      Optional<Widget> fresh = widgets.get(ns, widget.getMetadata().getName());
      if (fresh.isPresent() && fresh.get().addFinalizer(FINALIZER)) {
        widgets.update(fresh.get());
      }
      return Result.done(); // the update brings us back
    }
    Map<String, String> data = Map.of("count", Integer.toString(widget.getSpec().getCount()));
    Optional<ConfigMap> config = configMaps.get(ns, configName(widget));
    if (config.isEmpty()) {
      configMaps.create(new ConfigMapBuilder().withNewMetadata().withNamespace(ns).withName(configName(widget))
          .addToOwnerReferences(new OwnerReferenceBuilder().withApiVersion(widget.getApiVersion())
              .withKind(widget.getKind()).withName(widget.getMetadata().getName())
              .withUid(widget.getMetadata().getUid()).withController(true).build())
          .endMetadata().withData(data).build());
    } else if (!data.equals(config.get().getData())) {
      ConfigMap c = config.get();
      c.setData(data);
      configMaps.update(c);
    }
    Widget.Status status = widget.getStatus();
    if (status == null || !"Ready".equals(status.getPhase())
        || !Objects.equals(status.getObservedGeneration(), widget.getMetadata().getGeneration())) {
      Optional<Widget> found = widgets.get(ns, widget.getMetadata().getName());
      if (found.isEmpty()) {
        return Result.done();
      }
      Widget fresh = found.get();
      Widget.Status ready = new Widget.Status();
      ready.setPhase("Ready");
      ready.setObservedGeneration(fresh.getMetadata().getGeneration());
      fresh.setStatus(ready);
      widgets.updateStatus(fresh);
    }
    return Result.done();
  }
}
