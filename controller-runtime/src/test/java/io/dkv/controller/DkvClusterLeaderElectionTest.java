package io.dkv.controller;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;
import org.junit.jupiter.api.Disabled;

/** {@link ClusterLeaderElectionContract} on a 3-member dkv-server cluster. */
@Disabled("dkv-server cluster (issue 14, in progress): the handover passes, but with the contract's 3 s renew"
    + " deadline the elector loses its leadership across a kill of the Raft leader: dkv-server's failover (Ratis's"
    + " election, then the new leader's first commit) took longer than that on this loaded 2-core machine; the"
    + " failover time is to be measured against etcd's and cut before this is enabled")
class DkvClusterLeaderElectionTest extends ClusterLeaderElectionContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return DkvCluster.start(3);
  }
}
