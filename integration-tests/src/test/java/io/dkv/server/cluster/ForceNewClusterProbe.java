package io.dkv.server.cluster;

import static org.awaitility.Awaitility.await;

import io.dkv.testing.FaultyCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Etcd's recovery from a lost quorum, step by step on a three-member cluster (DKV's or etcd's): writes acknowledged;
 * the two members other than a follower killed for good (their data directories deleted); the survivor refuses
 * writes; restarted with {@code --force-new-cluster}, it leads alone with the same member and cluster ids, lists
 * itself only, serves every acknowledged write at its revision, takes new writes, and a watch from the first
 * revision replays the whole history. What each step observed is the outcome, to compare etcd's with DKV's.
 */
final class ForceNewClusterProbe {

  static final int KEYS = 150;
  static final int OVERWRITES = 50;

  /** What was observed, and the survivor's state for more steps. */
  record Outcome(List<String> answers, int survivor, long memberId, long lastRevision,
      Map<String, Long> revisions, List<String> history) {}

  private ForceNewClusterProbe() {}

  static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static Outcome run(FaultyCluster cluster) throws Exception {
    List<String> answers = new ArrayList<>();
    int leader = cluster.leader();
    int survivor = (leader + 1) % 3;
    Map<String, Long> revisions = new LinkedHashMap<>();
    List<String> history = new ArrayList<>();
    long last = 0;
    try (Client c = Client.builder().endpoints(cluster.endpoint(leader)).build()) {
      for (int i = 0; i < KEYS + OVERWRITES; i++) {
        String key = "k/" + (i % KEYS);
        long rev = c.getKVClient().put(bs(key), bs("v" + i)).get(30, TimeUnit.SECONDS).getHeader().getRevision();
        revisions.put(key, rev);
        history.add(key + "@" + rev);
        last = rev;
      }
    }
    long lastRev = last;
    long memberId;
    long clusterId;
    try (Client c = Client.builder().endpoints(cluster.endpoint(survivor)).build()) {
      // the survivor has applied every acknowledged write (as the member with the highest raft index would have)
      GetOption serializable = GetOption.builder().withSerializable(true).build();
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> c.getKVClient()
          .get(bs("k/0"), serializable).get(5, TimeUnit.SECONDS).getHeader().getRevision() >= lastRev);
      StatusResponse s = c.getMaintenanceClient().statusMember(cluster.endpoint(survivor)).get(10, TimeUnit.SECONDS);
      memberId = s.getHeader().getMemberId();
      clusterId = s.getHeader().getClusterId();
    }
    for (int i = 0; i < 3; i++) {
      if (i != survivor) {
        cluster.kill(i);
        deleteTree(cluster.dataDir(i));
      }
    }
    Etcdctl.Result refused = Etcdctl.run(List.of(cluster.endpoint(survivor)),
        List.of("--command-timeout=10s", "put", "k/lost", "x"));
    answers.add("put without quorum: " + (refused.exit() == 0 ? "accepted" : "refused"));

    cluster.kill(survivor);
    cluster.restart(survivor, "--force-new-cluster");
    try (Client c = Client.builder().endpoints(cluster.endpoint(survivor)).build()) {
      StatusResponse s = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> c
          .getMaintenanceClient().statusMember(cluster.endpoint(survivor)).get(5, TimeUnit.SECONDS),
          st -> st.getLeader() != 0);
      answers.add("after --force-new-cluster: leads itself " + (s.getLeader() == memberId) + ", same member id "
          + (s.getHeader().getMemberId() == memberId) + ", same cluster id " + (s.getHeader().getClusterId() == clusterId));
      List<String> members = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> c
          .getClusterClient().listMember().get(5, TimeUnit.SECONDS).getMembers().stream()
          .map(m -> Long.toHexString(m.getId()) + " " + m.getName() + " " + m.getPeerURIs()).toList(),
          l -> l.size() == 1 && !l.get(0).contains("  "));
      answers.add("members: " + members.size() + ", the survivor: "
          + members.get(0).startsWith(Long.toHexString(memberId) + " m" + survivor + " "));

      List<KeyValue> kvs = c.getKVClient().get(bs("k/"), GetOption.builder().isPrefix(true).build())
          .get(10, TimeUnit.SECONDS).getKvs();
      Map<String, Long> served = new LinkedHashMap<>();
      for (KeyValue kv : kvs) {
        served.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getModRevision());
      }
      answers.add("every acknowledged write at its revision: " + served.equals(revisions)
          + (served.equals(revisions) ? "" : " (" + served.size() + " keys served)"));

      long rev = c.getKVClient().put(bs("k/after"), bs("x")).get(30, TimeUnit.SECONDS).getHeader().getRevision();
      answers.add("a new write: at the next revision " + (rev == lastRev + 1));
      history.add("k/after@" + rev);

      answers.add("a watch from revision 2 replays the history: " + replays(c, history));
    }
    return new Outcome(answers, survivor, memberId, lastRev + 1, revisions, history);
  }

  static void deleteTree(java.nio.file.Path p) throws java.io.IOException {
    try (var s = java.nio.file.Files.walk(p)) {
      for (java.nio.file.Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.delete(f);
      }
    }
  }

  /** Whether a watch on {@code k/} from revision 2 on {@code c} gives exactly {@code history}, in order. */
  static boolean replays(Client c, List<String> history) {
    List<String> seen = new CopyOnWriteArrayList<>();
    try (Watch.Watcher w = c.getWatchClient().watch(bs("k/"),
        WatchOption.builder().isPrefix(true).withRevision(2).build(), Watch.listener(r -> {
          for (WatchEvent e : r.getEvents()) {
            seen.add(e.getKeyValue().getKey().toString(StandardCharsets.UTF_8) + "@" + e.getKeyValue().getModRevision());
          }
        }))) {
      await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() >= history.size());
    }
    return seen.equals(history);
  }
}
