package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.DkvProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills the server (SIGKILL) repeatedly while several clients write, restarts it on the same data directory
 * and checks that every acknowledged write is there, with its revision, version and history; that revisions
 * never go backwards; and that an unacknowledged write either happened entirely or not at all
 * ({@link AcknowledgedWrites}). The process dies; the machine does not: {@code PowerLossTest} cuts the power.
 */
class CrashSafetyTest {

  private static final int ROUNDS = 5;
  /** In this round the history is compacted while the writers run, so a kill may interrupt the compaction. */
  private static final int COMPACTION_ROUND = 2;
  static final List<String> SERVER_JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  @TempDir
  Path tmp;

  static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static String str(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  static Client client(String endpoint) {
    return Client.builder().endpoints(endpoint).waitForReady(false).retryMaxAttempts(0)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** True if {@code t} (or a cause) is etcd's "required revision has been compacted" error. */
  static boolean isCompacted(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof io.etcd.jetcd.common.exception.EtcdException e
          && e.getErrorCode() == io.etcd.jetcd.common.exception.ErrorCode.OUT_OF_RANGE
          && String.valueOf(e.getMessage()).contains("etcdserver: mvcc: required revision has been compacted")) {
        return true;
      }
      if (c instanceof io.grpc.StatusRuntimeException e
          && e.getStatus().getCode() == io.grpc.Status.Code.OUT_OF_RANGE
          && "etcdserver: mvcc: required revision has been compacted".equals(e.getStatus().getDescription())) {
        return true;
      }
    }
    return false;
  }

  @Test
  void acknowledgedWritesSurviveRepeatedKillsUnderLoad() throws Exception {
    long seed = new Random().nextLong();
    Random rnd = new Random(seed);
    AcknowledgedWrites writes = new AcknowledgedWrites(" (seed " + seed + ")");
    Path data = tmp.resolve("data");
    ExecutorService pool = Executors.newFixedThreadPool(AcknowledgedWrites.WRITERS);
    try {
      for (int round = 0; round <= ROUNDS; round++) {
        try (DkvProcess server = DkvProcess.start(data, 0, SERVER_JVM); Client c = client(server.endpoint())) {
          KV kv = c.getKVClient();
          assertEquals(List.of(), writes.check(kv, round), "after restart " + round);
          if (round == ROUNDS) {
            break;
          }
          writes.runUntilCrash(kv, round, 80 + rnd.nextInt(150), round == COMPACTION_ROUND, rnd, pool, server::kill);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(writes.compactedAt() > 0, "the history was compacted in round " + COMPACTION_ROUND);
    assertTrue(writes.inFlightAtCrashes() > 0, "writes were in flight when the server was killed");
    String log = Files.readString(tmp.resolve("data.log"));
    assertFalse(log.contains(" ERROR "), "the server logged errors:\n" + log);
    assertEquals(ROUNDS + 1, log.split("serving the etcd v3 API", -1).length - 1, "every start served (seed " + seed + ")");
  }
}
