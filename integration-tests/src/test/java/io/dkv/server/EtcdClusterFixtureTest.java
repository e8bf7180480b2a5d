package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.dkv.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The 3-member etcd fixture itself: a leader, a write through a follower, failover after kill -9, restart; a
 * partitioned leader replaced by the majority; a member replaced on an empty data directory.
 */
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

  @Test
  void aPartitionedLeaderIsReplacedAndAMemberComesBackFromAnEmptyDataDir() throws Exception {
    try (EtcdCluster cluster = EtcdCluster.start(3)) {
      int leader = cluster.leader();
      int follower = (leader + 1) % 3;
      cluster.partition(leader);
      try (Client c = Client.builder().endpoints(cluster.endpoint(follower)).build()) {
        // the majority elects a leader of its own and takes writes; the old leader steps down (check quorum)
        Awaitility.await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
            .until(() -> c.getKVClient().put(bs("k"), bs("during")).get(2, TimeUnit.SECONDS) != null);
        assertNotEquals(leader, cluster.leader());
        try (Client isolated = Client.builder().endpoints(cluster.endpoint(leader)).build()) {
          GetOption serializable = GetOption.newBuilder().withSerializable(true).build();
          assertEquals(0, isolated.getKVClient().get(bs("k"), serializable).get(5, TimeUnit.SECONDS).getCount(),
              "the partitioned member has not seen the write");
          cluster.heal();
          Awaitility.await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> "during".equals(
              isolated.getKVClient().get(bs("k"), serializable).get(2, TimeUnit.SECONDS).getKvs().get(0).getValue()
                  .toString(StandardCharsets.UTF_8)));
        }
        c.getKVClient().put(bs("k"), bs("before-replace")).get(10, TimeUnit.SECONDS);
        cluster.restartEmpty(follower);
        cluster.awaitHealthy(Duration.ofSeconds(30));
      }
      try (Client c = Client.builder().endpoints(cluster.endpoint(follower)).build()) {
        assertEquals("before-replace", c.getKVClient().get(bs("k")).get(10, TimeUnit.SECONDS).getKvs().get(0)
            .getValue().toString(StandardCharsets.UTF_8));
        assertEquals(3, c.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers().size());
      }
    }
  }
}
