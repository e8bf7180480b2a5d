package io.dkv.server.testing;

/**
 * What a compatibility scenario runs against: a fresh single dkv-server and a fresh single etcd, or a member of
 * the shared 3-member DKV cluster and the same kind of member (a follower, or the leader) of the shared 3-member
 * etcd cluster ({@link SharedClusters}).
 */
public enum Target {
  SINGLE,
  CLUSTER_FOLLOWER,
  CLUSTER_LEADER;

  public boolean isCluster() {
    return this != SINGLE;
  }
}
