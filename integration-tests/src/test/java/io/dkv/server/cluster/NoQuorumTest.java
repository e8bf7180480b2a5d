package io.dkv.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.DkvCluster;
import io.dkv.testing.EtcdCluster;
import io.dkv.testing.EtcdProcess;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member whose two peers are gone, on DKV as on etcd: writes and linearizable reads fail as etcd's fail (code
 * and message), serializable reads answer, calls carrying the require-leader metadata fail at once with
 * {@code etcdserver: no leader}, and a watch stream opened with it is ended with that error (etcd: after three
 * election timeouts without a leader) while a plain watch stays open.
 */
class NoQuorumTest {

  /**
   * Where DKV answers differently (etcd 3.4's answer, DKV's): a proposal that waits out the request timeout
   * (7 s) fails on DKV with etcd's server-side timeout, UNAVAILABLE "etcdserver: request timed out", where the
   * etcd under test answers UNKNOWN "context deadline exceeded": its proposal wait ends on the client's deadline,
   * which here is as long as the server's, a moment earlier.
   */
  private static final java.util.Map<String, String> KNOWN_DIFFERENCES = new java.util.LinkedHashMap<>();

  static {
    KNOWN_DIFFERENCES.put("put: UNKNOWN \"context deadline exceeded\"",
        "put: UNAVAILABLE \"etcdserver: request timed out\"");
  }

  private static final Logger log = LoggerFactory.getLogger(NoQuorumTest.class);

  @Test
  void aMemberWithoutQuorumAnswersAsEtcdsDoes() throws Exception {
    EtcdProcess.assumeInstalled();
    CompletableFuture<NoQuorumProbe.Outcome> onDkv = CompletableFuture.supplyAsync(() -> {
      try (DkvCluster c = DkvCluster.start(3)) {
        return NoQuorumProbe.run(c);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    NoQuorumProbe.Outcome etcd;
    try (EtcdCluster c = EtcdCluster.start(3)) {
      etcd = NoQuorumProbe.run(c);
    }
    NoQuorumProbe.Outcome dkv = onDkv.join();
    log.info("etcd without quorum:\n  {}\n  {}", String.join("\n  ", etcd.answers()), String.join("\n  ", etcd.timings()));
    log.info("DKV without quorum:\n  {}\n  {}", String.join("\n  ", dkv.answers()), String.join("\n  ", dkv.timings()));

    assertTrue(etcd.answers().contains("serializable get: \"before\""), etcd.answers().toString());
    assertTrue(etcd.answers().contains("put requiring a leader: UNAVAILABLE \"etcdserver: no leader\""),
        etcd.answers().toString());
    assertEquals(String.join("\n", KNOWN_DIFFERENCES.keySet()), String.join("\n", etcd.answers().stream()
        .filter(a -> KNOWN_DIFFERENCES.containsKey(a)).toList()), "etcd's answers changed");
    assertEquals(String.join("\n", etcd.answers().stream().map(a -> KNOWN_DIFFERENCES.getOrDefault(a, a)).toList()),
        String.join("\n", dkv.answers()));
    for (int i = 0; i < etcd.millis().length; i++) {
      // roughly when: within 3 s (the election timeouts by which etcd's and Ratis's timers may differ) of etcd
      assertTrue(Math.abs(etcd.millis()[i] - dkv.millis()[i]) < 3000,
          "etcd: " + etcd.timings().get(i) + ", DKV: " + dkv.timings().get(i));
    }
  }
}
