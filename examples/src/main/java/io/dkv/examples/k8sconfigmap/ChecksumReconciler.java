package io.dkv.examples.k8sconfigmap;

import io.dkv.controller.Reconciler;
import io.dkv.controller.Request;
import io.dkv.controller.Result;
import io.dkv.informer.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Keeps the annotation {@value #ANNOTATION} of every ConfigMap equal to a SHA-256 of its data — the checksum a
 * Deployment's pod template can carry so that pods restart when their configuration changes. Level-triggered:
 * it compares the cached ConfigMap's annotation with the checksum of its data and writes only when they differ,
 * with the cached resourceVersion, so a write based on a stale cache is refused (409) and retried.
 */
final class ChecksumReconciler implements Reconciler {

  static final String ANNOTATION = "dkv.io/data-checksum";

  private final SharedIndexInformer<ConfigMap> configMaps;
  private final KubernetesClient kubernetes;

  ChecksumReconciler(SharedIndexInformer<ConfigMap> configMaps, KubernetesClient kubernetes) {
    this.configMaps = configMaps;
    this.kubernetes = kubernetes;
  }

  // region reconcile
  @Override
  public Result reconcile(Request request) {
    Optional<ConfigMap> cached = configMaps.lister().get(request.key());
    if (cached.isEmpty()) {
      return Result.done();                                // deleted: nothing to keep
    }
    ConfigMap cm = cached.get();
    String want = checksum(cm.getData());
    Map<String, String> annotations = cm.getMetadata().getAnnotations();
    if (annotations != null && want.equals(annotations.get(ANNOTATION))) {
      return Result.done();                                // already right: no write
    }
    ConfigMap updated = new ConfigMapBuilder(cm)           // a copy: cached objects are shared, never modified
        .editMetadata().addToAnnotations(ANNOTATION, want).endMetadata().build();
    kubernetes.configMaps().inNamespace(request.namespace()).resource(updated).update();  // 409 if stale: retried
    return Result.done();
  }
  // endregion

  /** SHA-256 of the data's entries in key order ({@code key=value\n} each); of no data, of the empty string. */
  static String checksum(Map<String, String> data) {
    StringBuilder text = new StringBuilder();
    new TreeMap<>(data == null ? Map.<String, String>of() : data)
        .forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  }
}
