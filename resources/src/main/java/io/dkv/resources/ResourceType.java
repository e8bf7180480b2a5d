package io.dkv.resources;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.Objects;

/**
 * What identifies a kind: its group, version, kind name, plural and scope.
 *
 * @param group      the API group, empty for the legacy core group
 * @param version    the API version within the group
 * @param kind       the kind, like {@code ConfigMap}
 * @param plural     the resource name, like {@code configmaps}
 * @param namespaced whether objects live in namespaces
 */
record ResourceType(String group, String version, String kind, String plural, boolean namespaced) {

  ResourceType {
    group = group == null ? "" : group;
    requireText(version, "version");
    requireText(kind, "kind");
    requireText(plural, "plural");
  }

  static ResourceType of(ResourceDefinitionContext context) {
    Objects.requireNonNull(context, "context");
    return new ResourceType(context.getGroup(), context.getVersion(), context.getKind(), context.getPlural(),
        context.isNamespaceScoped());
  }

  /** {@code group/version}, or {@code version} for the core group. */
  String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /** How Kubernetes names the resource in messages: {@code configmaps} or {@code deployments.apps}. */
  String qualifiedResource() {
    return group.isEmpty() ? plural : plural + "." + group;
  }

  /** {@code root/group/plural/}, with {@code core} as the segment of the core group. */
  String kindPrefix(String root) {
    return root + "/" + (group.isEmpty() ? "core" : group) + "/" + plural + "/";
  }

  private static void requireText(String s, String what) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException("the resource type has no " + what);
    }
  }
}
