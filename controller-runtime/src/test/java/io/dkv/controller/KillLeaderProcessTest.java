package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.server.DkvServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three manager processes campaign on a dkv-server; the leader's process is killed with SIGKILL (no resignation,
 * no revoke): another leads once the dead leader's lease expires, and the fenced log shows no interleaving.
 */
class KillLeaderProcessTest {

  private static final Logger log = LoggerFactory.getLogger(KillLeaderProcessTest.class);

  private static Process spawn(String endpoint, String prefix, String identity, Path logFile) throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1",
        "-Dlogback.configurationFile=" + Path.of("src/test/resources/logback-test.xml").toAbsolutePath(),
        "-cp", System.getProperty("java.class.path"), CandidateMain.class.getName(), endpoint, prefix, identity);
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
  }

  private static Optional<String> leader(DkvClient admin, String prefix) {
    return admin.election(prefix + "election", Duration.ofSeconds(3)).leader().map(Versioned::value);
  }

  private static Map<String, Long> writesBy(DkvClient admin, String prefix) {
    Map<String, Long> counts = new HashMap<>();
    for (Versioned<String> v : admin.list(prefix + "log/", Codec.string())) {
      counts.merge(v.value().split(" ")[0], 1L, Long::sum);
    }
    return counts;
  }

  @Test
  void afterTheLeadersProcessIsKilledAnotherLeadsOnceItsLeaseExpires(@TempDir Path tmp) throws Exception {
    String prefix = "/kill/";
    List<Process> processes = new ArrayList<>();
    try (DkvServer server = DkvServer.builder().dataDir(tmp.resolve("data")).port(0).start();
         DkvClient admin = DkvClient.connect(server.endpoint())) {
      try {
        run(server, admin, prefix, processes, tmp);
      } finally {
        stopAll(processes); // while the server still runs, so they resign quickly
      }
    }
  }

  private static void stopAll(List<Process> processes) throws InterruptedException {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static void run(DkvServer server, DkvClient admin, String prefix, List<Process> processes, Path tmp)
      throws Exception {
    {
      Map<String, Process> byIdentity = new HashMap<>();
      for (int i = 0; i < 3; i++) {
        Process p = spawn(server.endpoint(), prefix, "p" + i, tmp.resolve("p" + i + ".log"));
        processes.add(p);
        byIdentity.put("p" + i, p);
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> leader(admin, prefix).isPresent());
      String first = leader(admin, prefix).orElseThrow();
      await().atMost(Duration.ofSeconds(30)).until(() -> writesBy(admin, prefix).getOrDefault(first, 0L) >= 5);

      long killedAt = System.nanoTime();
      byIdentity.get(first).destroyForcibly().waitFor(30, TimeUnit.SECONDS);

      await().atMost(Duration.ofSeconds(30)).until(() -> leader(admin, prefix).filter(l -> !l.equals(first))
          .isPresent());
      String second = leader(admin, prefix).orElseThrow();
      log.info("leader {} killed; {} leads after {} ms (lease 3 s)", first, second,
          (System.nanoTime() - killedAt) / 1_000_000);
      assertNotEquals(first, second);
      await().atMost(Duration.ofSeconds(30)).until(() -> writesBy(admin, prefix).getOrDefault(second, 0L) >= 5);

      List<Versioned<String>> entries = new ArrayList<>(admin.list(prefix + "log/", Codec.string()));
      entries.sort(Comparator.comparingLong(Versioned::modRevision));
      long lastToken = 0;
      Map<Long, String> owners = new HashMap<>();
      for (Versioned<String> e : entries) {
        String[] parts = e.value().split(" ");
        long token = Long.parseLong(parts[1]);
        assertTrue(token >= lastToken, "token " + token + " written after the newer " + lastToken);
        lastToken = token;
        owners.putIfAbsent(token, parts[0]);
        assertEquals(owners.get(token), parts[0], "token " + token + " used by two processes");
      }
      assertEquals(2, owners.size(), "two leaders wrote: " + owners);
    }
  }
}
