package io.dkv.informer;

import io.dkv.testing.EtcdCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;

/** {@link ClusterFailoverContract} on a 3-member etcd cluster. */
class EtcdClusterFailoverTest extends ClusterFailoverContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return EtcdCluster.start(3);
  }
}
