package io.dkv.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.testing.Transcript;
import io.dkv.server.testing.WatchSession;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Periodic progress notifications go to the watchers that asked, carry the current revision, and no events. */
class WatchProgressTest {

  @TempDir
  Path dir;

  @Test
  void periodicProgressNotifications() throws Exception {
    try (DkvServer server = DkvServer.builder().dataDir(dir).port(0)
            .progressNotifyInterval(Duration.ofMillis(100)).start();
         Transcript kv = new Transcript(server.port());
         WatchSession w = new WatchSession(server.port())) {
      w.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("p")).setProgressNotify(true));
      w.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("q")));
      await().atMost(Duration.ofSeconds(5)).until(() -> w.responses.size() >= 2);
      long rev = kv.kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("other"))
          .setValue(ByteString.copyFromUtf8("v")).build()).getHeader().getRevision();
      await().atMost(Duration.ofSeconds(5)).until(() -> progress(w.responses, rev) >= 2);
      for (WatchResponse r : w.responses) {
        if (!r.getCreated()) {
          assertEquals(0, r.getWatchId(), "only the watcher that asked gets notifications");
          assertEquals(0, r.getEventsCount());
          assertTrue(r.getHeader().getRevision() <= rev);
        }
      }
    }
  }

  private static long progress(List<WatchResponse> rs, long rev) {
    return rs.stream().filter(r -> !r.getCreated() && r.getHeader().getRevision() == rev).count();
  }
}
