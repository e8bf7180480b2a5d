package io.dkv.server.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.DkvCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.GetResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A leader paused (SIGSTOP) while the others elect a new one still believes it leads when it resumes, until it
 * hears of the new term. A linearizable read it serves must be confirmed by a quorum first (ReadIndex), and the
 * confirmation must be one asked for after the read came: Ratis answers a ReadIndex at once when no entry was
 * committed since its last confirmed one, which on a deposed leader served the value the new leader had
 * overwritten. Each round pauses the leader, writes a new value through the new leader, sends linearizable reads
 * to the paused one every few milliseconds, resumes it, and checks that every read answered saw the new value
 * (each was sent after that write was acknowledged). The same deposed-leader confirmation kept the lessor of a
 * resumed leader from revoking leases the new leader kept alive.
 */
class StaleLeaderReadTest {

  private static final int ROUNDS = 6;

  @Test
  void aResumedDeposedLeaderServesNoStaleLinearizableRead() throws Exception {
    ScheduledExecutorService reads = Executors.newSingleThreadScheduledExecutor();
    try (DkvCluster cluster = DkvCluster.start(3)) {
      for (int round = 0; round < ROUNDS; round++) {
        int old = cluster.leader();
        ByteSequence key = bs("k" + round);
        try (Client deposed = Client.builder().endpoints(cluster.endpoint(old)).build()) {
          // just after the previous round's election a write may fail ("leader changed"): set up again until done
          await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            deposed.getKVClient().put(key, bs("before")).get(5, TimeUnit.SECONDS);
            return "before".equals(value(deposed.getKVClient().get(key).get(5, TimeUnit.SECONDS)));
          });

          cluster.pause(old);
          int next = newLeader(cluster, old);
          long[] written = {0};
          try (Client leader = Client.builder().endpoints(cluster.endpoint(next)).build()) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
              written[0] = leader.getKVClient().put(key, bs("after")).get(5, TimeUnit.SECONDS).getHeader()
                  .getRevision();
              return true;
            });
          }
          List<CompletableFuture<GetResponse>> sent = new CopyOnWriteArrayList<>();
          AtomicInteger count = new AtomicInteger();
          ScheduledFuture<?> reader = reads.scheduleAtFixedRate(() -> {
            if (count.incrementAndGet() <= 300) {
              sent.add(deposed.getKVClient().get(key));
            }
          }, 0, 5, TimeUnit.MILLISECONDS);
          await().atMost(Duration.ofSeconds(5)).until(() -> sent.size() >= 20); // sent while it is paused
          cluster.resume(old);
          await().atMost(Duration.ofSeconds(10)).until(() -> count.get() >= 300);
          reader.cancel(false);

          int answered = 0;
          for (CompletableFuture<GetResponse> read : sent) {
            GetResponse r;
            try {
              r = read.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException refused) {
              continue; // a deposed member may refuse a read ("leader changed"): no answer is not a stale one
            }
            answered++;
            assertEquals("after", value(r), "round " + round + ": a read sent after revision " + written[0]
                + " was acknowledged saw revision " + r.getKvs().get(0).getModRevision());
          }
          assertTrue(answered > 0, "round " + round + ": no read answered");
          System.out.printf("round %d: %d of %d reads through the resumed member answered, none stale%n", round,
              answered, sent.size());
        }
        cluster.awaitHealthy(Duration.ofSeconds(30));
      }
    } finally {
      reads.shutdownNow();
    }
  }

  /** Waits for a member other than the paused {@code old} to lead, as they report it. */
  private static int newLeader(DkvCluster cluster, int old) {
    int[] found = {-1};
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> {
      for (int i : IntStream.range(0, cluster.size()).filter(i -> i != old).toArray()) {
        try (Client c = Client.builder().endpoints(cluster.endpoint(i)).build()) {
          var s = c.getMaintenanceClient().statusMember(cluster.endpoint(i)).get(2, TimeUnit.SECONDS);
          if (s.getLeader() == s.getHeader().getMemberId()) {
            found[0] = i;
            return true;
          }
        }
      }
      return false;
    });
    return found[0];
  }

  private static String value(GetResponse r) {
    return r.getKvs().isEmpty() ? null : r.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8);
  }

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
