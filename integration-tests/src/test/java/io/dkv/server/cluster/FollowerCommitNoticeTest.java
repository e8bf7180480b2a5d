package io.dkv.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.testing.DkvCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.PutResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A write through a follower is answered once that follower applied it, so the follower must learn that the entry
 * committed. The leader tells it at once (an empty append with the new commit index, as etcd's leader); Ratis alone
 * would tell it with its next heartbeat, every half election timeout. With an election timeout of 8 s (heartbeats
 * 4 s apart), five puts in a row through a follower each answered within 1.5 s: without the notice each would wait
 * for a heartbeat, and all five would make it in time about once in 150 runs.
 */
class FollowerCommitNoticeTest {

  @Test
  void aWriteThroughAFollowerDoesNotWaitForTheNextHeartbeat() throws Exception {
    try (DkvCluster cluster = DkvCluster.start(3, "--election-timeout", "8000", "--heartbeat-interval", "800");
         Client follower = Client.builder().endpoints(cluster.endpoint((cluster.leader() + 1) % 3)).build()) {
      follower.getKVClient().put(bs("k"), bs("first")).get(30, TimeUnit.SECONDS); // the client connected
      long revision = 0;
      for (int i = 0; i < 5; i++) {
        PutResponse put = follower.getKVClient().put(bs("k"), bs("v" + i)).get(1500, TimeUnit.MILLISECONDS);
        revision = put.getHeader().getRevision();
      }
      assertEquals(revision, follower.getKVClient().get(bs("k")).get(10, TimeUnit.SECONDS).getKvs().get(0)
          .getModRevision());
    }
  }

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
