package io.dkv.client;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;

/** {@link ClusterFailoverContract} on a 3-member dkv-server cluster. */
class DkvClusterFailoverTest extends ClusterFailoverContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return DkvCluster.start(3);
  }
}
