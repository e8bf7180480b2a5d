package io.dkv.server;

import static io.dkv.server.KvCompatTest.bs;
import static io.dkv.server.KvCompatTest.putReq;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.testing.Transcript;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveResponse;
import io.etcd.jetcd.api.RangeRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leases survive a restart with their TTL refreshed in full, keep their keys, and still expire. */
class LeaseRestartTest {

  @TempDir
  Path dir;

  @Test
  void leasesSurviveARestartWithFullTtlAndStillExpire() throws Exception {
    try (DkvServer dkv = DkvServer.builder().dataDir(dir).port(0).start(); Transcript t = new Transcript(dkv.port())) {
      grant(t, 1, 100);
      grant(t, 2, 4);
      grant(t, 3, 100);
      t.kv.put(putReq("a", "1").setLease(1).build());
      t.kv.put(putReq("b", "2").setLease(2).build());
      t.kv.put(putReq("c", "3").setLease(2).build());
      t.kv.put(putReq("d", "4").setLease(3).build());
      t.lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(3).build());
      // let lease 2 run down to half its TTL
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> ttl(t, 2).getTTL() <= 2);
    }
    try (DkvServer dkv = DkvServer.builder().dataDir(dir).port(0).start(); Transcript t = new Transcript(dkv.port())) {
      LeaseTimeToLiveResponse one = ttl(t, 1);
      assertEquals(100, one.getGrantedTTL());
      assertTrue(one.getTTL() >= 98, "ttl " + one.getTTL());
      assertEquals(List.of(bs("a")), one.getKeysList());
      LeaseTimeToLiveResponse two = ttl(t, 2);
      assertTrue(two.getTTL() >= 3, "refreshed in full, ttl " + two.getTTL());
      assertEquals(List.of(bs("b"), bs("c")), two.getKeysList().stream()
          .sorted(com.google.protobuf.ByteString.unsignedLexicographicalComparator()).toList());
      assertEquals(-1, ttl(t, 3).getTTL());

      await().atMost(Duration.ofSeconds(20)).until(() -> ttl(t, 2).getTTL() == -1);
      assertEquals(List.of("a"), t.kv.range(RangeRequest.newBuilder().setKey(bs("\0")).setRangeEnd(bs("\0")).build())
          .getKvsList().stream().map(kv -> kv.getKey().toStringUtf8()).toList());
    }
  }

  @Test
  void keysOfLeasesAreFoundAcrossPagesOfAStoreAtRestart() throws Exception {
    int keys = 2_500; // more than one page of the start-up scan
    try (DkvServer dkv = DkvServer.builder().dataDir(dir).port(0).start(); Transcript t = new Transcript(dkv.port())) {
      grant(t, 7, 100);
      for (int i = 0; i < keys; i++) {
        var put = putReq(String.format("k%05d", i), "v");
        t.kv.put((i % 3 == 0 ? put.setLease(7) : put).build());
      }
    }
    try (DkvServer dkv = DkvServer.builder().dataDir(dir).port(0).start(); Transcript t = new Transcript(dkv.port())) {
      assertEquals((keys + 2) / 3, ttl(t, 7).getKeysCount());
      t.lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(7).build());
      assertEquals(keys - (keys + 2) / 3, t.kv.range(RangeRequest.newBuilder().setKey(bs("k")).setRangeEnd(bs("l"))
          .setCountOnly(true).build()).getCount());
    }
  }

  private static void grant(Transcript t, long id, long ttl) {
    t.lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(id).setTTL(ttl).build());
  }

  private static LeaseTimeToLiveResponse ttl(Transcript t, long id) {
    return t.lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(id).setKeys(true).build());
  }
}
