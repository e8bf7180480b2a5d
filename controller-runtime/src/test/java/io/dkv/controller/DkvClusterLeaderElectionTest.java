package io.dkv.controller;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;
import org.junit.jupiter.api.Disabled;

/** {@link ClusterLeaderElectionContract} on a 3-member dkv-server cluster. */
@Disabled("dkv-server cluster (issue 14, in progress): the handover passes, but with the contract's 3 s renew"
    + " deadline the elector loses its leadership across a kill of the Raft leader: dkv-server's failover (Ratis's"
    + " election, then the new leader's first commit) takes longer than that on this loaded 2-core machine."
    + " Measured 2026-12-02 (branch faults, after the Raft client replacement): 3 runs, 3 red; each time 'no renewal"
    + " succeeded within the renew deadline of PT3S' 2.5 to 2.9 s after the kill (the watch saw its connection close), once also the elector's 5 s lease lost"
    + " (no keep-alive succeeded within its TTL); DkvClusterFailoverTest's kill scenario measures a write 4.4 s after"
    + " the kill of the leader. The failover time is to be cut below 3 s before this is enabled")
class DkvClusterLeaderElectionTest extends ClusterLeaderElectionContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return DkvCluster.start(3);
  }
}
