package io.dkv.server.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.DkvCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A member removed by MemberRemove (asked of that member) answers and stops, as etcd's; one removed while it was down
 * stops when started again (the others tell it) ({@code the member has been permanently removed from the
 * cluster}), and started again on its old data directory it stops again instead of serving stale reads; the
 * other members go on serving.
 */
class RemovedMemberStopsTest {

  /** Etcd's words. */
  private static final String REMOVED = "the member has been permanently removed from the cluster";

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /** First a member removed while it was down, then a follower removed while it runs (one cluster for both). */
  @Test
  void aRemovedFollowerStopsAndDoesNotServeAgainOnItsOldData() throws Exception {
    try (DkvCluster cluster = DkvCluster.start(3)) {
      removeWhileDownAndRestart(cluster);
      removeAndRestart(cluster, false);
    }
  }

  @Test
  void aLeaderThatRemovedItselfStopsOnceTheOthersLead() throws Exception {
    try (DkvCluster cluster = DkvCluster.start(3)) {
      removeAndRestart(cluster, true);
    }
  }

  /**
   * A member removed while it was down never applies its removal: started again, it learns it from the others
   * (as etcd's, whose peers answer its messages with etcd's words) and stops instead of serving stale reads.
   */
  private static void removeWhileDownAndRestart(DkvCluster cluster) throws Exception {
    int leader = cluster.leader();
    int removed = (leader + 1) % 3;
    long id;
    try (Client c = Client.builder().endpoints(cluster.endpoint(removed)).build()) {
      id = c.getMaintenanceClient().statusMember(cluster.endpoint(removed)).get(10, TimeUnit.SECONDS)
          .getHeader().getMemberId();
    }
    cluster.kill(removed);
    try (Client c = Client.builder().endpoints(cluster.endpoint(leader)).build()) {
      c.getClusterClient().removeMember(id).get(30, TimeUnit.SECONDS);
      c.getKVClient().put(bs("k"), bs("after the removal")).get(30, TimeUnit.SECONDS);
    }
    restartAndAwaitItsStop(cluster, removed, "the member removed while down serves again");
  }

  private static void removeAndRestart(DkvCluster cluster, boolean removeTheLeader) throws Exception {
    int leader = cluster.leader();
    List<Integer> alive = IntStream.range(0, cluster.size()).filter(cluster::isAlive).boxed().toList();
    int removed = removeTheLeader ? leader : alive.stream().filter(i -> i != leader).findFirst().orElseThrow();
    int other = alive.stream().filter(i -> i != removed).findFirst().orElseThrow();
    long id;
    try (Client c = Client.builder().endpoints(cluster.endpoint(removed)).build()) {
      id = c.getMaintenanceClient().statusMember(cluster.endpoint(removed)).get(10, TimeUnit.SECONDS)
          .getHeader().getMemberId();
      c.getKVClient().put(bs("k"), bs("before")).get(30, TimeUnit.SECONDS);
    }
    // asked of the member removed: a follower forwards it to the leader and answers before it stops
    try (Client c = Client.builder().endpoints(cluster.endpoint(removed)).build()) {
      c.getClusterClient().removeMember(id).get(30, TimeUnit.SECONDS);
    }
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !cluster.isAlive(removed));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("the removed member still runs\n" + cluster.logs(), e);
    }
    String firstLog = cluster.log(removed);
    assertTrue(firstLog.contains(REMOVED), "etcd's message in its log:\n" + firstLog);

    try (Client c = Client.builder().endpoints(cluster.endpoint(other)).build()) {
      // the others: a cluster one smaller that takes writes and lists its members
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
          c.getKVClient().put(bs("k"), bs("after")).get(10, TimeUnit.SECONDS) != null);
      assertEquals("after", c.getKVClient().get(bs("k")).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue()
          .toString(StandardCharsets.UTF_8));
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
          c.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers().size() == alive.size() - 1);
    }

    restartAndAwaitItsStop(cluster, removed, "the removed member serves again on its old data");
  }

  /** Starts removed member {@code i} again on its data: it stops (or exits at once) with etcd's words. */
  private static void restartAndAwaitItsStop(DkvCluster cluster, int i, String ifNot) throws Exception {
    int logBefore = cluster.log(i).length();
    try {
      cluster.restart(i);
    } catch (IOException e) {
      // it exits before it listens: as etcd's removed member, with status 0
      assertTrue(e.getMessage().contains("dkv-server exited with 0"), e.getMessage());
    }
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !cluster.isAlive(i));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(ifNot + "\n" + cluster.log(i), e);
    }
    String log = cluster.log(i).substring(logBefore);
    assertTrue(log.contains(REMOVED), "etcd's message in its log:\n" + log);
  }
}
