package io.dkv.server;

import static io.dkv.server.CrashSafetyTest.bs;
import static io.dkv.server.CrashSafetyTest.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutoCompactionTest {

  @TempDir
  Path tmp;

  private static long put(KV kv, String key, String value) throws Exception {
    return kv.put(bs(key), bs(value)).get(20, TimeUnit.SECONDS).getHeader().getRevision();
  }

  private static GetResponse getAt(KV kv, String key, long rev) throws Exception {
    return kv.get(bs(key), GetOption.builder().withRevision(rev).build()).get(20, TimeUnit.SECONDS);
  }

  /** The error of a read at {@code rev}, or null if it succeeded. */
  private static Throwable readErrorAt(KV kv, String key, long rev) throws Exception {
    return kv.get(bs(key), GetOption.builder().withRevision(rev).build()).handle((r, e) -> e)
        .get(20, TimeUnit.SECONDS);
  }

  private static long compacted(Client c, DkvServer server) throws Exception {
    return c.getMaintenanceClient().hashKV(server.endpoint(), 0).get(20, TimeUnit.SECONDS).getCompacted();
  }

  @Test
  void revisionModeKeepsTheLastRetentionRevisions() throws Exception {
    try (DkvServer server = DkvServer.builder().dataDir(tmp.resolve("rev")).port(0)
        .autoCompaction(DkvServer.CompactionMode.REVISION, "10")
        .revisionCompactionInterval(Duration.ofMillis(100))
        .start();
         Client c = CrashSafetyTest.client(server.endpoint())) {
      KV kv = c.getKVClient();
      long last = 0;
      for (int i = 0; i < 30; i++) {
        last = put(kv, "k", "v" + i);
      }
      assertEquals(31, last);
      // etcd's revision mode compacts at (current revision - retention)
      long expected = last - 10;
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> compacted(c, server) == expected);
      assertTrue(CrashSafetyTest.isCompacted(readErrorAt(kv, "k", 2)));
      assertTrue(CrashSafetyTest.isCompacted(readErrorAt(kv, "k", expected - 1)),
          "read just below the compaction at " + expected);
      for (long r = expected; r <= last; r++) {
        GetResponse g = getAt(kv, "k", r);
        assertEquals("v" + (r - 2), str(g.getKvs().get(0).getValue()), "read at " + r);
        assertEquals(r, g.getKvs().get(0).getModRevision());
        assertEquals(r - 1, g.getKvs().get(0).getVersion(), "the version counts the compacted writes too");
        assertEquals(2, g.getKvs().get(0).getCreateRevision());
      }

      // it goes on compacting as the revision grows
      for (int i = 30; i < 35; i++) {
        last = put(kv, "k", "v" + i);
      }
      long next = last - 10;
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> compacted(c, server) == next);
      assertTrue(CrashSafetyTest.isCompacted(readErrorAt(kv, "k", next - 1)));
      assertEquals("v" + (next - 2), str(getAt(kv, "k", next).getKvs().get(0).getValue()));
    }
  }

  @Test
  void periodicModeCompactsWhatIsOlderThanTheRetention() throws Exception {
    Duration retention = Duration.ofSeconds(2);
    try (DkvServer server = DkvServer.builder().dataDir(tmp.resolve("periodic")).port(0)
        .autoCompaction(DkvServer.CompactionMode.PERIODIC, "2s")
        .start();
         Client c = CrashSafetyTest.client(server.endpoint())) {
      KV kv = c.getKVClient();
      for (int i = 0; i < 5; i++) {
        put(kv, "k", "old" + i);
      }
      long old = put(kv, "other", "x");
      long writtenAt = System.nanoTime();
      long newest = put(kv, "k", "new");
      assertEquals(old + 1, newest);

      Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> CrashSafetyTest.isCompacted(readErrorAt(kv, "k", old)));
      long observedAt = System.nanoTime();
      // the history of the last period was kept: 'old' could only go once 'newest' was retention old
      assertTrue(observedAt - writtenAt >= retention.toNanos(),
          "compacted " + Duration.ofNanos(observedAt - writtenAt) + " after the next write");
      assertEquals(newest, compacted(c, server));
      assertEquals("new", str(getAt(kv, "k", newest).getKvs().get(0).getValue()));
      assertEquals("x", str(getAt(kv, "other", newest).getKvs().get(0).getValue()),
          "a key last written before the compaction keeps its latest value");
      assertEquals(6, getAt(kv, "k", newest).getKvs().get(0).getVersion());
    }
  }

  @Test
  void parsePeriodAcceptsHoursAndGoDurations() {
    assertEquals(Duration.ofHours(1), AutoCompactor.parsePeriod("1"));
    assertEquals(Duration.ofHours(72), AutoCompactor.parsePeriod("72"));
    assertEquals(Duration.ofMinutes(90), AutoCompactor.parsePeriod("90m"));
    assertEquals(Duration.ofMinutes(90), AutoCompactor.parsePeriod("1h30m"));
    assertEquals(Duration.ofSeconds(10), AutoCompactor.parsePeriod("10s"));
    assertEquals(Duration.ofMillis(1500), AutoCompactor.parsePeriod("1s500ms"));
    assertEquals(Duration.ofMinutes(90), AutoCompactor.parsePeriod("1.5h"));
    assertEquals(Duration.ofMillis(2500), AutoCompactor.parsePeriod("2.5s"));
    assertEquals(Duration.ofMillis(1), AutoCompactor.parsePeriod("1000us"));
  }

  @Test
  void parsePeriodRejectsInvalidAndZeroPeriods() {
    // zero means "no auto compaction" to etcd: Main handles it; as a period it would compact everything at once
    for (String bad : List.of("abc", "", "5x", "h", "1h30", "-1h", "1 h", "0", "0m", "0h0s", "1hh")) {
      assertThrows(IllegalArgumentException.class, () -> AutoCompactor.parsePeriod(bad), "'" + bad + "'");
    }
  }

  @Test
  void builderValidatesTheRetention() {
    assertThrows(IllegalArgumentException.class,
        () -> DkvServer.builder().autoCompaction(DkvServer.CompactionMode.PERIODIC, "5x"));
    assertThrows(IllegalArgumentException.class,
        () -> DkvServer.builder().autoCompaction(DkvServer.CompactionMode.PERIODIC, "0"));
    assertThrows(IllegalArgumentException.class,
        () -> DkvServer.builder().autoCompaction(DkvServer.CompactionMode.REVISION, "0"));
    assertThrows(IllegalArgumentException.class,
        () -> DkvServer.builder().autoCompaction(DkvServer.CompactionMode.REVISION, "1h"));
  }
}
