package io.dkv.server.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.storage.Backend;
import io.dkv.testing.DkvCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.rocksdb.WriteBatch;

/**
 * Etcd's corruption checks on a 3-member DKV cluster: one follower's stored state is damaged on purpose (a value
 * rewritten in its RocksDB while it is stopped). With {@code --experimental-initial-corrupt-check} it refuses to
 * start, with etcd's message; started without it, the leader's periodic check
 * ({@code --experimental-corrupt-check-time}) raises the CORRUPT alarm, which {@code etcdctl alarm list} shows as
 * etcd prints it on every member, and writes fail with {@code etcdserver: corrupt cluster} while reads answer.
 */
class CorruptionCheckClusterTest {

  /** Etcdctl prints an alarm as its proto text: a member id of 0 (the periodic check's, as etcd's) is left out. */
  private static final String CORRUPT_ALARM = "alarm:CORRUPT \n";

  private DkvCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Test
  void aDamagedMemberIsRefusedAtStartAndFoundByTheLeadersPeriodicCheck() throws Exception {
    cluster = DkvCluster.start(3, "--experimental-corrupt-check-time", "500ms");
    int leader = cluster.leader();
    int f = (leader + 1) % 3;
    long fId;
    try (Client c = Client.builder().endpoints(cluster.endpoint(leader)).build()) {
      for (int i = 0; i < 5; i++) {
        c.getKVClient().put(bs("k" + i), bs("v" + i)).get(10, TimeUnit.SECONDS);
      }
      fId = c.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers().stream()
          .filter(m -> m.getName().equals(cluster.name(f))).findFirst().orElseThrow().getId();
    }
    try (Client onF = Client.builder().endpoints(cluster.endpoint(f)).build()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> onF.getKVClient().get(bs("k4"),
          GetOption.builder().withSerializable(true).build()).get(5, TimeUnit.SECONDS).getCount() == 1);
    }
    // healthy, the periodic checks (every 500 ms) raise nothing
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
        .until(() -> Etcdctl.run(cluster.endpoints(), List.of("alarm", "list")).out().isEmpty());

    cluster.kill(f);
    damage(f, "k2");

    IOException refused = assertThrows(IOException.class,
        () -> cluster.restart(f, "--experimental-initial-corrupt-check"));
    assertTrue(refused.getMessage().contains("dkv-server exited with 1"), refused.getMessage());
    assertTrue(refused.getMessage().contains("dkv-server: " + Long.toHexString(fId)
        + " found data inconsistency with peers"), refused.getMessage());
    assertFalse(cluster.isAlive(f));

    cluster.restart(f);
    await().atMost(Duration.ofSeconds(30)).until(
        () -> Etcdctl.run(List.of(cluster.endpoint(leader)), List.of("alarm", "list")).out(),
        CORRUPT_ALARM::equals);
    for (int i = 0; i < 3; i++) {
      int m = i;
      await().atMost(Duration.ofSeconds(10)).until(
          () -> Etcdctl.run(List.of(cluster.endpoint(m)), List.of("alarm", "list")).out(), CORRUPT_ALARM::equals);
    }
    Etcdctl.Result put = Etcdctl.run(List.of(cluster.endpoint(leader)), List.of("put", "k9", "v"));
    assertEquals(1, put.exit(), put.toString());
    assertTrue(put.err().endsWith("Error: etcdserver: corrupt cluster\n"), put.toString());
    Etcdctl.Result get = Etcdctl.run(List.of(cluster.endpoint(leader)), List.of("get", "k2"));
    assertEquals("k2\nv2\n", get.out(), get.toString());
    // the damaged member serves its damaged state: what the alarm is there to tell
    Etcdctl.Result damaged = Etcdctl.run(List.of(cluster.endpoint(f)),
        List.of("get", "k2", "--consistency=s"));
    assertEquals("k2\ndamaged\n", damaged.out(), damaged.toString());
  }

  /** Rewrites the value of {@code key}'s latest record in member {@code i}'s stored state (stopped). */
  private void damage(int i, String key) throws IOException {
    try (Backend backend = Backend.open(cluster.dataDir(i).resolve("member").resolve("state"));
        WriteBatch batch = new WriteBatch()) {
      byte[][] found = new byte[2][];
      backend.scanKv(new byte[0], null, (k, v) -> {
        try {
          KeyValue kv = KeyValue.parseFrom(v);
          if (kv.getKey().toStringUtf8().equals(key)) {
            found[0] = k;
            found[1] = kv.toBuilder().setValue(com.google.protobuf.ByteString.copyFromUtf8("damaged")).build()
                .toByteArray();
          }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
        return true;
      });
      assertTrue(found[0] != null, "no record of " + key);
      backend.putKv(batch, found[0], found[1]);
      backend.write(batch, true);
    }
  }
}
