package io.dkv.client;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.FaultyCluster;
import java.io.IOException;

/** {@link ClusterFailoverContract} on a 3-member dkv-server cluster. */
@org.junit.jupiter.api.Disabled("dkv-server cluster (issue 14, server side, in progress): around a Raft leader change"
    + " (the leader killed or paused) the server answered a lease keep-alive with 'expired' (TTL 0 / not found) or"
    + " left keep-alives unanswered for a whole 10 s TTL, so the lease checks fail in 2 of 3 runs; the watch and"
    + " write checks passed every time. Enable once leases survive a leader change (etcd's run,"
    + " EtcdClusterFailoverTest, passes)")
class DkvClusterFailoverTest extends ClusterFailoverContract {
  @Override
  FaultyCluster startCluster() throws IOException {
    return DkvCluster.start(3);
  }

  @Override
  java.util.Optional<String> noRequireLeader() {
    return java.util.Optional.of("dkv-server does not cancel watches opened with etcd's require-leader metadata yet"
        + " (issue 14, server side)");
  }
}
