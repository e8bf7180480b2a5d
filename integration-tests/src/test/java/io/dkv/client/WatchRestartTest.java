package io.dkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.testing.DkvProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dkv-server killed (SIGKILL) and restarted on the same port and data directory while a writer keeps writing
 * and a watch runs: the watch resumes by itself and delivers exactly the history: one event per revision after
 * its snapshot (every write under the prefix makes one), none twice, each acknowledged write as written, and each
 * event's previous value the one the event before it (or the snapshot) gave its key.
 */
class WatchRestartTest {

  private static final List<String> JVM = List.of("-Xmx128m", "-XX:TieredStopAtLevel=1");

  @Test
  void noEventMissedOrDuplicatedAcrossAServerRestart(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("data");
    DkvProcess server = DkvProcess.start(data, 0, JVM);
    int port = server.port();
    PrimitivesContract.Recorder<String> rec = new PrimitivesContract.Recorder<>();
    Map<Long, WatchEvent<String>> acknowledged = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    try (DkvClient client = DkvClient.builder().endpoints(server.endpoint())
        .requestTimeout(Duration.ofSeconds(20)).build()) {
      client.put("r/0", "initial");
      Subscription sub = client.watchPrefix("r/", Codec.string(),
          WatchOptions.builder().initialSnapshot(true).backoff(Duration.ofMillis(50), Duration.ofMillis(500))
              .build(), rec);
      Thread writer = new Thread(() -> write(client, acknowledged, stop), "writer");
      writer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= 100);
      server.kill(); // while writes and events are in flight
      server = DkvProcess.start(data, port, JVM);
      int before = acknowledged.size();
      await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= before + 100);
      stop.set(true);
      writer.join();
      long last = acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
      await().atMost(Duration.ofSeconds(30)).until(() -> sub.revision() >= last);
      sub.close();

      List<Long> revisions = rec.events.stream().map(WatchEvent::revision).toList();
      assertEquals(LongStream.rangeClosed(rec.snapshotRevision + 1, last).boxed().toList(), revisions,
          "one event per revision, in order, none missing, none twice");
      Map<String, String> state = new HashMap<>();
      rec.snapshot.forEach(v -> state.put(v.key(), v.value()));
      for (WatchEvent<String> e : rec.events) {
        WatchEvent<String> written = acknowledged.get(e.revision());
        if (written != null) {
          assertEquals(written.type(), e.type());
          assertEquals(written.key(), e.key());
          assertEquals(written.value(), e.value());
        }
        assertEquals(state.get(e.key()), e.previousValue(), "previous value of " + e);
        if (e.type() == WatchEvent.Type.PUT) {
          state.put(e.key(), e.value());
        } else {
          state.remove(e.key());
        }
      }
    } finally {
      stop.set(true);
      server.close();
    }
  }

  /** Puts r/0..r/9 round-robin, deleting instead every seventh time; records each acknowledged write. */
  private static void write(DkvClient client, Map<Long, WatchEvent<String>> acknowledged, AtomicBoolean stop) {
    for (int i = 0; !stop.get(); i++) {
      String key = "r/" + (i % 10);
      try {
        if (i % 7 == 6) {
          var r = client.jetcd().getKVClient().delete(Keys.bytes(key)).get();
          if (r.getDeleted() > 0) {
            long rev = r.getHeader().getRevision();
            acknowledged.put(rev, new WatchEvent<>(WatchEvent.Type.DELETE, key, null, null, rev));
          }
        } else {
          String value = "v" + i;
          long rev = client.put(key, value);
          acknowledged.put(rev, new WatchEvent<>(WatchEvent.Type.PUT, key, value, null, rev));
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception unknownOutcome) {
        // the server died under this write: it may or may not have been applied; the watch will tell
      }
    }
  }
}
