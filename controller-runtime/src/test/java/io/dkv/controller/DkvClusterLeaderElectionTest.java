package io.dkv.controller;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;
import org.junit.jupiter.api.Disabled;

/** {@link ClusterLeaderElectionContract} on a 3-member dkv-server cluster. */
@Disabled("dkv-server cluster (issue 14, in progress): the handover passes, but with the contract's renew"
    + " deadline (3 s when measured; 4 s now) the elector loses its leadership across the kill or the pause of"
    + " the Raft leader: its renewal waits on a member"
    + " whose write waits for the new leader, and dkv-server's failover (detection, Ratis's election, the new"
    + " leader's first commit) is too close to the deadline on this 2-core machine. Measured 2026-12-02 after the"
    + " election timeout range [E, 1.2E] and the 20 ms client retries: 3 runs, 3 red ('no renewal succeeded within"
    + " the renew deadline of PT3S'); Failover --rounds 10: median 1.9 s, max 2.6 s (etcd 1.1 s, 1.5 s)")
class DkvClusterLeaderElectionTest extends ClusterLeaderElectionContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return DkvCluster.start(3);
  }
}
