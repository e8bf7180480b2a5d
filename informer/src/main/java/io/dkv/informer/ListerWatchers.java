package io.dkv.informer;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.ListWatch;
import io.dkv.client.Versioned;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The built-in sources.
 */
public final class ListerWatchers {
  private ListerWatchers() {}

  /**
   * The keys under {@code prefix} of an etcd-v3 server (DKV or etcd), values decoded by {@code codec}. Every object
   * is a {@link Versioned}: its key, value, create and mod revision, version and lease, so handlers and listers
   * know which key an object is (a controller's {@code forResource(informer)} enqueues {@code v.key()}). Cache keys
   * are the etcd keys, revisions the mod revisions; bookmarks come from etcd's progress notifications.
   * A value {@code codec} cannot decode (it throws or returns null) is logged at ERROR and treated as absent: lists
   * skip it and a write of it is a {@link Event.Type#DELETED} event, so the informer keeps running and never
   * caches a state older than the server's; audits do not count such keys as drift. The next decodable value
   * written brings the key back.
   *
   * <pre>{@code
   * ListerWatcher<Versioned<Job>> jobs = ListerWatchers.etcd(client, "/jobs/", Codec.json(Job.class));
   * }</pre>
   */
  public static <T> ListerWatcher<Versioned<T>> etcd(DkvClient client, String prefix, Codec<T> codec) {
    return etcd(ListWatch.prefix(client, prefix, codec).build());
  }

  /**
   * An informer source over a {@link ListWatch} built with options of its own (a filter, previous values, one
   * key); see {@link #etcd(DkvClient, String, Codec)}. With previous values, a DELETED event carries the last
   * state.
   */
  public static <T> ListerWatcher<Versioned<T>> etcd(ListWatch<T> source) {
    return new EtcdListerWatcher<>(source);
  }

  /**
   * The objects of kind {@code type} in {@code namespace} (null: all namespaces) of a Kubernetes API server,
   * through the fabric8 client (which must be on the class path). Keys are {@code namespace/name}
   * ({@code name} for cluster-scoped kinds), revisions {@code metadata.resourceVersion} (which must be
   * numeric); bookmarks come from {@code allowWatchBookmarks}, and 410 Gone becomes a
   * {@link HistoryGoneException}. fabric8's own informers are not used.
   *
   * <pre>{@code
   * SharedIndexInformer<ConfigMap> maps = SharedIndexInformer
   *     .builder(ListerWatchers.kubernetes(kubernetesClient, ConfigMap.class, "default"))
   *     .build().start();
   * }</pre>
   */
  public static <T extends HasMetadata> ListerWatcher<T> kubernetes(KubernetesClient client, Class<T> type,
      String namespace) {
    return new KubernetesListerWatcher<>(client, type, namespace, null);
  }

  /**
   * Like {@link #kubernetes(KubernetesClient, Class, String)}, only the objects matching
   * {@code labelSelector} (Kubernetes label selector syntax, like {@code app=web,tier!=cache}).
   */
  public static <T extends HasMetadata> ListerWatcher<T> kubernetes(KubernetesClient client, Class<T> type,
      String namespace, String labelSelector) {
    java.util.Objects.requireNonNull(labelSelector, "labelSelector");
    return new KubernetesListerWatcher<>(client, type, namespace, labelSelector);
  }
}
