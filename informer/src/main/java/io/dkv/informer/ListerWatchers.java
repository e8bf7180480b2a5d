package io.dkv.informer;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;

/**
 * The built-in sources.
 */
public final class ListerWatchers {
  private ListerWatchers() {}

  /**
   * The keys under {@code prefix} of an etcd-v3 server (DKV or etcd), values decoded by {@code codec}.
   * Keys are the etcd keys, revisions their mod revisions; bookmarks come from etcd's progress notifications.
   * A value {@code codec} cannot decode (it throws or returns null) is logged at ERROR and treated as absent: lists
   * skip it and a write of it is a {@link Event.Type#DELETED} event, so the informer keeps running and never
   * caches a state older than the server's; audits do not count such keys as drift. The next decodable value
   * written brings the key back.
   *
   * <pre>{@code
   * ListerWatcher<Job> jobs = ListerWatchers.etcd(client, "/jobs/", Codec.json(Job.class));
   * }</pre>
   */
  public static <T> ListerWatcher<T> etcd(DkvClient client, String prefix, Codec<T> codec) {
    return new EtcdListerWatcher<>(client, prefix, codec);
  }
}
