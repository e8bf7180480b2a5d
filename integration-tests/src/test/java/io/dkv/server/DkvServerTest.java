package io.dkv.server;

import static io.dkv.server.CrashSafetyTest.bs;
import static io.dkv.server.CrashSafetyTest.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.DkvProcess;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DkvServerTest {

  @TempDir
  Path tmp;

  private static GetResponse get(KV kv, String key) throws Exception {
    return kv.get(bs(key)).get(20, TimeUnit.SECONDS);
  }

  @Test
  void sigtermShutsDownCleanlyWithExitCodeZeroAndTheDataSurvives() throws Exception {
    Path data = tmp.resolve("data");
    long rev;
    try (DkvProcess server = DkvProcess.start(data, 0, CrashSafetyTest.SERVER_JVM)) {
      try (Client c = CrashSafetyTest.client(server.endpoint())) {
        c.getKVClient().put(bs("a"), bs("1")).get(20, TimeUnit.SECONDS);
        rev = c.getKVClient().put(bs("a"), bs("2")).get(20, TimeUnit.SECONDS).getHeader().getRevision();
      }
      assertEquals(0, server.stop(), "exit code after SIGTERM");
    }
    String log = Files.readString(tmp.resolve("data.log"));
    assertTrue(log.contains("dkv-server stopped"), "the shutdown closed the server:\n" + log);

    try (DkvProcess server = DkvProcess.start(data, 0, CrashSafetyTest.SERVER_JVM);
         Client c = CrashSafetyTest.client(server.endpoint())) {
      GetResponse r = get(c.getKVClient(), "a");
      assertEquals(rev, r.getHeader().getRevision());
      assertEquals("2", str(r.getKvs().get(0).getValue()));
      assertEquals(2, r.getKvs().get(0).getVersion());
      assertEquals(0, server.stop());
    }
  }

  @Test
  void sigtermUnderWriteLoadKeepsEveryAcknowledgedWrite() throws Exception {
    Path data = tmp.resolve("loaded");
    Map<String, Long> acked = new ConcurrentHashMap<>();
    AtomicBoolean stopping = new AtomicBoolean();
    List<Throwable> unexpected = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (DkvProcess server = DkvProcess.start(data, 0, CrashSafetyTest.SERVER_JVM);
         Client c = CrashSafetyTest.client(server.endpoint())) {
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < 3; w++) {
        int id = w;
        writers.add(pool.submit(() -> {
          for (int i = 0; ; i++) {
            String key = "w" + id + "/" + i;
            try {
              acked.put(key, c.getKVClient().put(bs(key), bs("v" + i)).get(20, TimeUnit.SECONDS)
                  .getHeader().getRevision());
            } catch (Exception e) {
              if (!stopping.get()) {
                unexpected.add(e);
              }
              return;
            }
          }
        }));
      }
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 100);
      stopping.set(true);
      assertEquals(0, server.stop(), "exit code after SIGTERM under load");
      for (Future<?> f : writers) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of(), unexpected);
    try (DkvProcess server = DkvProcess.start(data, 0, CrashSafetyTest.SERVER_JVM);
         Client c = CrashSafetyTest.client(server.endpoint())) {
      for (var e : acked.entrySet()) {
        GetResponse r = get(c.getKVClient(), e.getKey());
        assertEquals(1, r.getKvs().size(), e.getKey() + " lost");
        assertEquals(e.getValue(), r.getKvs().get(0).getModRevision(), e.getKey());
      }
    }
  }

  @Test
  void embeddedServerOnPortZeroServesAndReopensItsData() throws Exception {
    Path data = tmp.resolve("embedded");
    try (DkvServer server = DkvServer.builder().dataDir(data).port(0).start()) {
      assertNotEquals(0, server.port());
      assertEquals("http://127.0.0.1:" + server.port(), server.endpoint());
      try (Client c = CrashSafetyTest.client(server.endpoint())) {
        KV kv = c.getKVClient();
        assertEquals(2, kv.put(bs("k"), bs("v")).get(20, TimeUnit.SECONDS).getHeader().getRevision());
        assertEquals("v", str(get(kv, "k").getKvs().get(0).getValue()));
        var status = c.getMaintenanceClient().statusMember(server.endpoint()).get(20, TimeUnit.SECONDS);
        assertEquals(2, status.getHeader().getRevision());
        assertEquals(1, c.getClusterClient().listMember().get(20, TimeUnit.SECONDS).getMembers().size());
      }
    }
    try (DkvServer again = DkvServer.builder().dataDir(data).port(0).start();
         Client c = CrashSafetyTest.client(again.endpoint())) {
      GetResponse r = get(c.getKVClient(), "k");
      assertEquals(List.of("v"), r.getKvs().stream().map(kv -> str(kv.getValue())).toList());
      assertEquals(2, r.getHeader().getRevision());
    }
  }

  @Test
  void twoServersCannotShareADataDirectory() throws Exception {
    Path data = tmp.resolve("shared");
    try (DkvServer server = DkvServer.builder().dataDir(data).port(0).start()) {
      var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
          () -> DkvServer.builder().dataDir(data).port(0).start().close());
      assertTrue(e.getMessage().contains(data.toString()), e.getMessage());
      assertTrue(server.port() > 0);
    }
  }

  @Test
  void helpListsEtcdsFlags() {
    StringWriter out = new StringWriter();
    CommandLine cmd = new CommandLine(new Main()).setOut(new PrintWriter(out));
    assertEquals(0, cmd.execute("--help"));
    String help = out.toString();
    for (String flag : List.of("--name", "--data-dir", "--listen-client-urls", "--advertise-client-urls",
        "--initial-advertise-peer-urls", "--max-request-bytes", "--max-txn-ops", "--auto-compaction-mode",
        "--auto-compaction-retention", "--listen-metrics-urls", "--help", "--version")) {
      assertTrue(help.contains(flag), flag + " missing from:\n" + help);
    }
    assertTrue(help.contains("Usage: dkv-server"), help);
  }

  @Test
  void invalidFlagsAreRejectedBeforeAnythingStarts() {
    Path data = tmp.resolve("never");
    for (String[] args : List.of(
        new String[] {"--data-dir", data.toString(), "--auto-compaction-mode", "sometimes",
            "--auto-compaction-retention", "1"},
        new String[] {"--data-dir", data.toString(), "--auto-compaction-retention", "5x"},
        new String[] {"--data-dir", data.toString(), "--auto-compaction-mode", "revision",
            "--auto-compaction-retention", "1h"},
        new String[] {"--data-dir", data.toString(), "--max-txn-ops", "0"},
        new String[] {"--data-dir", data.toString(), "--listen-client-urls", "https://127.0.0.1:1"},
        new String[] {"--data-dir", data.toString(), "--listen-metrics-urls", "https://127.0.0.1:1"},
        new String[] {"--data-dir", data.toString(), "--listen-metrics-urls", "http://127.0.0.1:1,http://127.0.0.1:2"},
        new String[] {"--data-dir", data.toString(), "--no-such-flag"})) {
      StringWriter err = new StringWriter();
      int code = new CommandLine(new Main()).setErr(new PrintWriter(err)).execute(args);
      // a usage error (picocli's 2) with an explanation and the usage, not a stack trace
      assertEquals(2, code, String.join(" ", args) + ":\n" + err);
      assertTrue(err.toString().contains("Usage: dkv-server"), "an explanation for " + String.join(" ", args));
      assertFalse(err.toString().contains("\tat "), "a stack trace for " + String.join(" ", args) + ":\n" + err);
      assertFalse(Files.exists(data), "no data directory was created for " + String.join(" ", args));
    }
  }
}
