package io.dkv.server.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.DkvCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A 3-member DKV cluster, each member its own JVM: writes through a follower, linearizable reads on another,
 * watches served by every member, the member list, and a write again after kill -9 of the leader.
 */
class DkvClusterTest {

  private static DkvCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = DkvCluster.start(3);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static Client client(int member) {
    return Client.builder().endpoints(cluster.endpoint(member)).build();
  }

  @Test
  void writesThroughAFollowerAreReadAndWatchedOnEveryMemberAndSurviveTheLeadersKill() throws Exception {
    int leader = cluster.leader();
    int f = (leader + 1) % 3;
    int g = (leader + 2) % 3;
    try (Client onF = client(f); Client onG = client(g); Client onLeader = client(leader)) {
      List<WatchEvent> seenOnG = new CopyOnWriteArrayList<>();
      Watch.Watcher w = onG.getWatchClient().watch(bs("k"), WatchOption.builder().withRevision(1).build(),
          r -> seenOnG.addAll(r.getEvents()));

      PutResponse put = onF.getKVClient().put(bs("k"), bs("v1")).get(10, TimeUnit.SECONDS);
      StatusResponse fStatus = onF.getMaintenanceClient().statusMember(cluster.endpoint(f)).get(5, TimeUnit.SECONDS);
      assertEquals(fStatus.getHeader().getMemberId(), put.getHeader().getMemberId(), "answered by f itself");

      GetResponse onGet = onG.getKVClient().get(bs("k")).get(10, TimeUnit.SECONDS); // linearizable: ReadIndex
      assertEquals("v1", onGet.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8));
      assertEquals(put.getHeader().getRevision(), onGet.getKvs().get(0).getModRevision());
      assertEquals(put.getHeader().getClusterId(), onGet.getHeader().getClusterId());
      assertNotEquals(put.getHeader().getMemberId(), onGet.getHeader().getMemberId());
      assertTrue(onGet.getHeader().getRaftTerm() > 0, "raft term in the header");
      await().atMost(Duration.ofSeconds(10)).until(() -> seenOnG.size() == 1);
      assertEquals(put.getHeader().getRevision(), seenOnG.get(0).getKeyValue().getModRevision());

      // each member publishes its name and client URLs through the log once it runs, as etcd's do
      await().atMost(Duration.ofSeconds(10)).until(() -> onF.getClusterClient().listMember().get(5, TimeUnit.SECONDS)
          .getMembers().stream().map(Member::getName).collect(Collectors.toSet()), n -> n.equals(Set.of("m0", "m1", "m2")));
      List<Member> members = onF.getClusterClient().listMember().get(5, TimeUnit.SECONDS).getMembers();
      assertEquals(Set.copyOf(cluster.endpoints()), members.stream()
          .flatMap(m -> m.getClientURIs().stream()).map(u -> u.toString()).collect(Collectors.toSet()));

      cluster.kill(leader);
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
          onF.getKVClient().put(bs("k"), bs("v2")).get(5, TimeUnit.SECONDS) != null);
      int next = cluster.leader();
      assertNotEquals(leader, next);
      await().atMost(Duration.ofSeconds(10)).until(() -> seenOnG.size() == 2);
      assertEquals("v2", seenOnG.get(1).getKeyValue().getValue().toString(StandardCharsets.UTF_8));

      cluster.restart(leader);
      try (Client back = client(leader)) {
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> "v2".equals(back.getKVClient()
            .get(bs("k"), GetOption.builder().withSerializable(true).build()).get(5, TimeUnit.SECONDS)
            .getKvs().get(0).getValue().toString(StandardCharsets.UTF_8)));
      }
      w.close();
    }
  }
}
