package io.dkv.server.lease;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.PutRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100,000 leases with staggered TTLs are granted through the writer and all expire, driven by a manual
 * clock; finding what expired looks only at expired queue entries (plus one per check), never at all leases.
 */
class LessorScaleTest {

  private static final int LEASES = 100_000;
  private static final int TTL_SPREAD = 1000;

  @TempDir
  Path dir;

  @Test
  void hundredThousandStaggeredLeasesExpireWithoutScans() throws Exception {
    AtomicLong clock = new AtomicLong();
    try (Backend backend = Backend.open(dir)) {
      MvccStore store = MvccStore.open(backend);
      Lessor lessor = Lessor.open(backend, store, clock::get);
      try (DirectProposer proposer = new DirectProposer(store, lessor, io.dkv.server.alarm.AlarmStore.load(backend))) {
        lessor.proposeTo(proposer);
        lessor.promote(java.time.Duration.ZERO);
        List<CompletableFuture<?>> grants = new ArrayList<>();
        for (int i = 0; i < LEASES; i++) {
          grants.add(proposer.propose(LeaseGrantRequest.newBuilder().setID(i + 1).setTTL(ttl(i)).build()));
        }
        for (int i = 0; i < LEASES; i += 1000) {
          grants.add(proposer.propose(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k" + i))
              .setLease(i + 1).build()));
        }
        CompletableFuture.allOf(grants.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        assertEquals(LEASES, lessor.size());
        assertEquals(LEASES / 1000, store.read().range(ByteString.copyFromUtf8("k"),
            ByteString.copyFromUtf8("l"), 0, 0, true).count());

        long checks = 0;
        for (long t = 100; t <= TTL_SPREAD + 100; t += 100) {
          clock.set(TimeUnit.SECONDS.toNanos(t));
          long before = lessor.examined();
          int proposed = lessor.expire();
          checks++;
          long expected = expectedAlive(t);
          assertTrue(lessor.examined() - before <= proposed + 1,
              "looked at " + (lessor.examined() - before) + " entries to expire " + proposed);
          assertEquals(expectedAlive(t - 100) - expected, proposed, "leases expired in this step");
          await().atMost(Duration.ofSeconds(60)).until(() -> lessor.size() == expected);
        }
        assertEquals(0, lessor.size());
        assertEquals(0, store.read().range(ByteString.copyFromUtf8("k"), ByteString.copyFromUtf8("l"), 0, 0, true)
            .count());
        assertTrue(lessor.examined() <= LEASES + checks, "examined " + lessor.examined());
      }
    }
  }

  private static long ttl(int i) {
    return 2 + (i * 7L) % TTL_SPREAD; // 2 .. 1001 s, in no particular order
  }

  private static long expectedAlive(long t) {
    long alive = 0;
    for (int i = 0; i < LEASES; i++) {
      if (ttl(i) > t) {
        alive++;
      }
    }
    return alive;
  }
}
