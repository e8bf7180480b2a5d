package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.dkv.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The 3-member etcd fixture itself: a leader, a write through a follower, failover after kill -9, restart. */
class EtcdClusterFixtureTest {

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Test
  void leaderFailsOverAndAKilledMemberComesBack() throws Exception {
    try (EtcdCluster cluster = EtcdCluster.start(3)) {
      int leader = cluster.leader();
      int follower = (leader + 1) % 3;
      try (Client c = Client.builder().endpoints(cluster.endpoint(follower)).build()) {
        c.getKVClient().put(bs("k"), bs("v1")).get(10, TimeUnit.SECONDS);
        cluster.kill(leader);
        int next = cluster.leader();
        assertNotEquals(leader, next);
        c.getKVClient().put(bs("k"), bs("v2")).get(10, TimeUnit.SECONDS);
        cluster.restart(leader);
      }
      try (Client c = Client.builder().endpoints(cluster.endpoint(leader)).build()) {
        assertEquals("v2", c.getKVClient().get(bs("k")).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue()
            .toString(StandardCharsets.UTF_8));
      }
    }
  }
}
