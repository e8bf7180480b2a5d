package io.dkv.controller;

import io.dkv.testing.EtcdCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;

/** {@link ClusterLeaderElectionContract} on a 3-member etcd cluster. */
class EtcdClusterLeaderElectionTest extends ClusterLeaderElectionContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return EtcdCluster.start(3);
  }
}
