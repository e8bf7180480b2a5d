package io.dkv.controller;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;
import org.junit.jupiter.api.Disabled;

/** {@link ClusterLeaderElectionContract} on a 3-member dkv-server cluster. */
@Disabled("dkv-server cluster (issue 14, server side, in progress): a lease keep-alive sent to a follower fails with"
    + " 'UNKNOWN: Application error processing RPC', and after a kill of the Raft leader the server reported the"
    + " leader's lease expired; enable once the server handles both (the etcd run, EtcdClusterLeaderElectionTest,"
    + " passes)")
class DkvClusterLeaderElectionTest extends ClusterLeaderElectionContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return DkvCluster.start(3);
  }
}
