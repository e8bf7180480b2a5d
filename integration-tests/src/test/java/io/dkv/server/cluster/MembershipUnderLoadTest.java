package io.dkv.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A membership change under write load, with etcdctl as an operator runs it: a learner added
 * ({@code member add --learner}), started with the flags etcdctl printed, promoted once in sync (refused with
 * etcd's message until then), and an old member removed; every write acknowledged meanwhile is on the new member
 * afterwards, with the revision it was acknowledged at; and the promoted member is a voter: with the leader
 * stopped, it and the other remaining member elect a leader and take writes.
 */
class MembershipUnderLoadTest {

  private static final Pattern ADDED = Pattern.compile("Member +([0-9a-f]+) added to cluster"); // etcdctl pads ids to 16
  private static final Pattern INITIAL = Pattern.compile("ETCD_INITIAL_CLUSTER=\"([^\"]+)\"");

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Test
  void addALearnerPromoteItAndRemoveAnOldMemberWhileWritesGoOn() throws Exception {
    EtcdProcess.assumeInstalled();
    try (DkvCluster cluster = DkvCluster.start(3, 1)) {
      List<String> initial = IntStream.range(0, 3).mapToObj(cluster::endpoint).toList();
      Map<String, Long> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger failed = new AtomicInteger();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        int writer = w;
        Thread t = new Thread(() -> {
          try (Client c = Client.builder().endpoints(initial.toArray(String[]::new)).build()) {
            for (int seq = 0; !stop.get(); seq++) {
              String key = "w" + writer + "/" + seq;
              try {
                long rev = c.getKVClient().put(bs(key), bs("v" + seq)).get(10, TimeUnit.SECONDS)
                    .getHeader().getRevision();
                acked.put(key, rev);
              } catch (Exception e) {
                failed.incrementAndGet(); // not acknowledged: may or may not be there
              }
            }
          }
        }, "writer-" + w);
        t.start();
        writers.add(t);
      }
      try {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= 200);
        // every member has published its name (etcdctl prints the others' names in the new member's flags)
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() ->
            Etcdctl.run(initial, List.of("member", "list")).out().lines().noneMatch(l -> l.contains("unstarted")));

        int joiner = cluster.addSlot();
        Etcdctl.Result add = Etcdctl.run(initial, List.of("member", "add", cluster.name(joiner),
            "--peer-urls=" + cluster.peerUrl(joiner), "--learner"));
        assertEquals(0, add.exit(), add.toString());
        Matcher id = ADDED.matcher(add.out());
        Matcher flags = INITIAL.matcher(add.out());
        assertTrue(id.find() && flags.find(), add.toString());
        String newId = id.group(1);
        assertTrue(add.out().contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\""), add.out());

        Etcdctl.Result list = Etcdctl.run(initial, List.of("member", "list"));
        assertTrue(list.out().contains(newId + ", unstarted, , " + cluster.peerUrl(joiner) + ", , true"), list.out());
        Etcdctl.Result early = Etcdctl.run(initial, List.of("member", "promote", newId));
        assertEquals("Error: etcdserver: can only promote a learner member which is in sync with leader\n",
            early.err().replaceAll("(?m)^\\{\"level\":\"warn\".*\n", ""), early.toString());

        cluster.startJoining(joiner, flags.group(1));
        Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
          Etcdctl.Result r = Etcdctl.run(initial, List.of("member", "promote", newId));
          if (r.exit() != 0) {
            assertTrue(r.err().contains("can only promote a learner member which is in sync with leader"),
                r.toString());
          }
          return r.exit() == 0 && r.out().matches("(?s)Member +" + newId + " promoted in cluster.*");
        });
        int acksAtPromotion = acked.size();

        int leader = cluster.leader();
        int old = IntStream.range(0, 3).filter(i -> i != leader).findFirst().orElseThrow();
        long oldId = memberId(cluster, old);
        Etcdctl.Result remove = Etcdctl.run(initial, List.of("member", "remove", Long.toHexString(oldId)));
        assertEquals(0, remove.exit(), remove.toString());
        cluster.kill(old); // etcd's removed member stops by itself; this one is stopped here

        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= acksAtPromotion + 200);
        stop.set(true);
        for (Thread t : writers) {
          t.join(30_000);
        }

        try (Client onNew = Client.builder().endpoints(cluster.endpoint(joiner)).build()) {
          // a member's list is its own (as etcd's): the removal reaches the new member once it applied it
          List<Member> members = Awaitility.await().atMost(Duration.ofSeconds(20))
              .until(() -> onNew.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers(),
                  l -> l.size() == 3);
          Member added = members.stream().filter(m -> Long.toHexString(m.getId()).equals(newId)).findFirst()
              .orElseThrow();
          assertEquals(cluster.name(joiner), added.getName());
          assertTrue(!added.isLearner(), "promoted");
          assertTrue(members.stream().noneMatch(m -> m.getId() == oldId), "removed");

          onNew.getKVClient().get(bs("w0/0")).get(10, TimeUnit.SECONDS); // linearizable: the new member is current
          GetResponse all = onNew.getKVClient().get(bs("w"), GetOption.builder().isPrefix(true)
              .withSerializable(true).build()).get(30, TimeUnit.SECONDS);
          Map<String, Long> found = new java.util.HashMap<>();
          all.getKvs().forEach(kv -> found.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getModRevision()));
          List<String> lost = new ArrayList<>();
          acked.forEach((k, rev) -> {
            if (!rev.equals(found.get(k))) {
              lost.add(k + "@" + rev + " (found " + found.get(k) + ")");
            }
          });
          assertEquals(List.of(), lost, acked.size() + " acknowledged, " + failed.get() + " failed");
          assertTrue(acked.size() >= acksAtPromotion + 200, "writes went on after the promotion: " + acked.size());
        }

        // the promoted member votes: without the leader, the other two members (it and the remaining initial
        // one) elect a leader between them and take writes again
        int lastLeader = cluster.leader();
        cluster.kill(lastLeader);
        List<String> left = IntStream.range(0, cluster.size()).filter(cluster::isAlive).mapToObj(cluster::endpoint)
            .toList();
        assertEquals(2, left.size(), left.toString());
        try (Client rest = Client.builder().endpoints(left.toArray(String[]::new)).build()) {
          Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
              rest.getKVClient().put(bs("after-leader-loss"), bs("ok")).get(5, TimeUnit.SECONDS) != null);
        }
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + cluster.logs(), e);
      } finally {
        stop.set(true);
      }
    }
  }

  private static long memberId(DkvCluster cluster, int i) throws Exception {
    try (Client c = Client.builder().endpoints(cluster.endpoint(i)).build()) {
      return c.getMaintenanceClient().statusMember(cluster.endpoint(i)).get(5, TimeUnit.SECONDS).getHeader()
          .getMemberId();
    }
  }
}
