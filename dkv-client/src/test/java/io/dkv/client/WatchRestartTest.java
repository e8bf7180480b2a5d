package io.dkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.server.testing.DkvProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dkv-server killed (SIGKILL) and restarted on the same port and data directory while a watch runs: the
 * watch resumes by itself, and what it delivered is exactly the write history, each write once, in order.
 */
class WatchRestartTest {

  @Test
  void noEventMissedOrDuplicatedAcrossAServerRestart(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("data");
    DkvProcess server = DkvProcess.start(data, 0, List.of("-Xmx128m", "-XX:TieredStopAtLevel=1"));
    int port = server.port();
    PrimitivesContract.Recorder<String> rec = new PrimitivesContract.Recorder<>();
    Map<Long, WatchEvent<String>> history = new TreeMap<>();
    try (DkvClient client = DkvClient.builder().endpoints(server.endpoint())
        .requestTimeout(Duration.ofSeconds(20)).build();
        Subscription sub = client.watchPrefix("r/", Codec.string(),
            WatchOptions.builder().initialSnapshot(true).backoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .build(), rec)) {
      write(client, history, 0, 100);
      server.kill(); // some of those events may not have reached the watch yet
      server = DkvProcess.start(data, port, List.of("-Xmx128m", "-XX:TieredStopAtLevel=1"));
      write(client, history, 100, 200);
      long last = history.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
      await().atMost(Duration.ofSeconds(30)).until(() -> sub.revision() >= last);
      assertEquals(new ArrayList<>(history.values()), rec.events);
    } finally {
      server.close();
    }
  }

  /** Puts r/0..r/9 round-robin, deleting every seventh write's key; records each write with its revision. */
  private static void write(DkvClient client, Map<Long, WatchEvent<String>> history, int from, int to) {
    Map<String, String> current = new TreeMap<>();
    for (WatchEvent<String> e : history.values()) {
      if (e.type() == WatchEvent.Type.PUT) {
        current.put(e.key(), e.value());
      } else {
        current.remove(e.key());
      }
    }
    for (int i = from; i < to; i++) {
      String key = "r/" + (i % 10);
      if (i % 7 == 6 && current.containsKey(key)) {
        long rev = client.jetcd().getKVClient().delete(Keys.bytes(key)).join().getHeader().getRevision();
        history.put(rev, new WatchEvent<>(WatchEvent.Type.DELETE, key, null, current.remove(key), rev));
      } else {
        String value = "v" + i;
        long rev = client.put(key, value);
        history.put(rev, new WatchEvent<>(WatchEvent.Type.PUT, key, value, current.put(key, value), rev));
      }
    }
  }
}
