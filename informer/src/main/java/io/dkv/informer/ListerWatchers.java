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
   */
  public static <T> ListerWatcher<T> etcd(DkvClient client, String prefix, Codec<T> codec) {
    throw new UnsupportedOperationException("not built yet: issue 6");
  }
}
