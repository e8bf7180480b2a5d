package io.dkv.server.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.DkvCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A member whose disk was lost, replaced as etcd's documentation replaces one ({@link DkvCluster#restartEmpty}:
 * member remove, member add at the same peer URL, started on an empty data directory with
 * {@code --initial-cluster-state existing}): the leader, which has a checkpoint (a small --snapshot-count), installs
 * it on the new member, which then holds every write and lists itself under its name and not the removed member.
 */
class MemberReplacedOnEmptyDataDirTest {

  private static final int WRITES = 300;

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Test
  void aMemberReplacedOnAnEmptyDataDirectoryCatchesUpByTheLeadersSnapshot() throws Exception {
    try (DkvCluster cluster = DkvCluster.start(3, "--snapshot-count", "100")) {
      int leader = cluster.leader();
      int replaced = (leader + 1) % 3;
      long oldId;
      try (Client c = Client.builder().endpoints(cluster.endpoint(replaced)).build()) {
        oldId = c.getMaintenanceClient().statusMember(cluster.endpoint(replaced)).get(10, TimeUnit.SECONDS)
            .getHeader().getMemberId();
      }
      long lastRev;
      try (Client c = Client.builder().endpoints(cluster.endpoint(leader)).build()) {
        // one at a time: concurrent puts share log entries (the proposals are batched), and the log must grow
        // past --snapshot-count entries for the leader to purge what the new member would need
        for (int key = 0; key < WRITES; key++) {
          int k = key; // a put that timed out on this loaded machine is sent again: the same key and value
          c.getKVClient().put(bs("k/" + k), bs("v" + k))
              .exceptionallyCompose(e -> c.getKVClient().put(bs("k/" + k), bs("v" + k))).get(30, TimeUnit.SECONDS);
        }
        lastRev = c.getKVClient().get(bs("k/0")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
      }
      int logBefore = cluster.log(replaced).length();

      cluster.restartEmpty(replaced);

      try (Client onNew = Client.builder().endpoints(cluster.endpoint(replaced)).build()) {
        GetOption count = GetOption.builder().isPrefix(true).withSerializable(true).withCountOnly(true).build();
        try {
          await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
              onNew.getKVClient().get(bs("k/"), count).get(5, TimeUnit.SECONDS).getCount() == WRITES);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          throw new AssertionError("the new member did not catch up\n" + cluster.logs(), e);
        }
        String newLog = cluster.log(replaced).substring(logBefore);
        assertTrue(newLog.contains("installed the leader's snapshot"), "caught up by the leader's snapshot:\n"
            + newLog);
        long rev = onNew.getKVClient().get(bs("k/0")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
        assertTrue(rev >= lastRev, "a linearizable read on the new member is at " + rev + ", before " + lastRev);

        List<Member> members = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
            .until(() -> onNew.getClusterClient().listMember().get(5, TimeUnit.SECONDS).getMembers(),
                l -> l.size() == 3 && l.stream().noneMatch(m -> m.getName().isEmpty()));
        assertFalse(members.stream().anyMatch(m -> m.getId() == oldId), "the removed member is not listed");
        assertTrue(members.stream().anyMatch(m -> m.getName().equals(cluster.name(replaced))
            && m.getPeerURIs().contains(java.net.URI.create(cluster.peerUrl(replaced))) && !m.isLearner()),
            "the new member, under its name, voting");
      }
    }
  }
}
