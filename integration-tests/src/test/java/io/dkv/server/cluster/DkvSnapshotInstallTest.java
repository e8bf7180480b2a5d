package io.dkv.server.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.raft.RaftMember;
import io.dkv.testing.DkvCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A follower that was down while the others wrote past the leader's retained log (a small --snapshot-count)
 * gets the leader's snapshot installed when it comes back, with the whole history: its reads and a watch from
 * revision 1 on it show every write, and the alarm raised before those writes (whose log entry is purged by then).
 */
class DkvSnapshotInstallTest {

  private static final int WRITES = 250;
  /**
   * 250 of them fill more than two log segments of 1 MB (the members' {@link RaftMember#SEGMENT_SIZE}; 8 MB by
   * default): only whole segments are purged. Puts sent together share log entries, so how many entries that is
   * varies: the writes go on (up to three times as many) until the leader has purged its first segment, the one
   * the follower's log ends in.
   */
  private static final String VALUE = "x".repeat(10_000);
  private static final List<String> JVM = java.util.stream.Stream.concat(DkvCluster.TEST_JVM.stream(),
      java.util.stream.Stream.of("-D" + RaftMember.SEGMENT_SIZE + "=1MB")).toList();

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /** Whether the Raft log under {@code dataDir} no longer holds the segment that starts at index 0. */
  private static boolean firstSegmentPurged(Path dataDir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(dataDir)) {
      return files.map(f -> f.getFileName().toString())
          .noneMatch(n -> n.startsWith("log_0-") || n.equals("log_inprogress_0"));
    }
  }

  private static void raiseNospace(String endpoint, long memberId) throws InterruptedException {
    java.net.URI u = java.net.URI.create(endpoint);
    io.grpc.ManagedChannel ch = io.grpc.netty.NettyChannelBuilder.forAddress(u.getHost(), u.getPort())
        .usePlaintext().build();
    try {
      io.etcd.jetcd.api.MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
          .alarm(io.etcd.jetcd.api.AlarmRequest.newBuilder()
              .setAction(io.etcd.jetcd.api.AlarmRequest.AlarmAction.ACTIVATE).setMemberID(memberId)
              .setAlarm(io.etcd.jetcd.api.AlarmType.NOSPACE).build());
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aFollowerBehindTheLeadersLogCatchesUpByTheSnapshot() throws Exception {
    try (DkvCluster cluster = DkvCluster.start(3, JVM, "--snapshot-count", "20")) {
      int leader = cluster.leader();
      int follower = (leader + 1) % 3;
      cluster.kill(follower);
      long lastRev;
      long leaderId;
      int written;
      try (Client c = Client.builder().endpoints(cluster.endpoint(leader)).build()) {
        leaderId = c.getMaintenanceClient().statusMember(cluster.endpoint(leader)).get(10, TimeUnit.SECONDS)
            .getHeader().getMemberId();
        // NOSPACE refuses nothing in DKV (no quota yet): an alarm that only has to travel in the snapshot
        Etcdctl.Result none = Etcdctl.run(List.of(cluster.endpoint(leader)), List.of("alarm", "list"));
        assertEquals("", none.out(), none.toString());
        raiseNospace(cluster.endpoint(leader), leaderId);
        Path leaderLog = cluster.dataDir(leader);
        for (int batch = 0; batch < WRITES || !firstSegmentPurged(leaderLog); batch += 25) {
          assertTrue(batch < 3 * WRITES, "the leader purged no log segment after " + batch + " writes");
          List<CompletableFuture<?>> puts = new ArrayList<>();
          for (int i = batch; i < batch + 25; i++) {
            // a put that times out on this loaded machine is sent again: the same key and value
            int key = i;
            puts.add(c.getKVClient().put(bs("snap/" + key), bs(VALUE + key))
                .exceptionallyCompose(e -> c.getKVClient().put(bs("snap/" + key), bs(VALUE + key))));
          }
          CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        written = (int) c.getKVClient().get(bs("snap/"), GetOption.builder().isPrefix(true).withCountOnly(true)
            .build()).get(10, TimeUnit.SECONDS).getCount();
        lastRev = c.getKVClient().get(bs("snap/0")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
      }
      cluster.restart(follower);
      try (Client back = Client.builder().endpoints(cluster.endpoint(follower)).build()) {
        GetOption all = GetOption.builder().isPrefix(true).withSerializable(true).withCountOnly(true).build();
        try {
          await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
              back.getKVClient().get(bs("snap/"), all).get(5, TimeUnit.SECONDS).getCount() == written);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          throw new AssertionError("the follower did not catch up; the members' snapshot lines and warnings:\n"
              + cluster.logs().lines().filter(l -> l.startsWith("---") || l.contains("napshot") || l.contains("WARN")
              || l.contains("ERROR") || l.contains("Exception") || l.contains("at io.dkv") || l.contains("Caused by"))
              .filter(l -> !l.contains("RaftServerConfigKeys"))
              .collect(java.util.stream.Collectors.joining("\n")), e);
        }
        assertTrue(cluster.logs().contains("installed the leader's snapshot"), () -> "caught up by a snapshot; "
            + "the members' snapshot lines:\n" + cluster.logs().lines()
            .filter(l -> l.startsWith("---") || l.contains("napshot") || l.contains("purge"))
            .collect(java.util.stream.Collectors.joining("\n")));
        Etcdctl.Result alarms = Etcdctl.run(List.of(cluster.endpoint(follower)), List.of("alarm", "list"));
        assertEquals("memberID:" + Long.toUnsignedString(leaderId) + " alarm:NOSPACE \n", alarms.out(),
            "the alarm came with the snapshot: " + alarms);

        List<WatchEvent> events = new CopyOnWriteArrayList<>();
        try (var w = back.getWatchClient().watch(bs("snap/"),
            WatchOption.builder().isPrefix(true).withRevision(1).build(), r -> events.addAll(r.getEvents()))) {
          await().atMost(Duration.ofSeconds(30)).until(() -> !events.isEmpty()
              && events.get(events.size() - 1).getKeyValue().getModRevision() == lastRev);
        }
        assertEquals(written, events.stream().map(e -> e.getKeyValue().getKey()).distinct().count(),
            "the whole history, from the snapshot");
        assertEquals(lastRev, events.get(events.size() - 1).getKeyValue().getModRevision());
      }
    }
  }
}
