package io.dkv.client;

import io.dkv.testing.EtcdCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;

/** {@link ClusterFailoverContract} on a 3-member etcd cluster, with pre-vote. */
class EtcdClusterFailoverTest extends ClusterFailoverContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return EtcdCluster.start(3, "--pre-vote=true"); // etcd 3.5's default and dkv-server's (3.4's is false)
  }
}
