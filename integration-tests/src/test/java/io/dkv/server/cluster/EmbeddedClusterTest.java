package io.dkv.server.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.server.DkvServer;
import io.dkv.testing.Ports;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three members embedded in one JVM with the {@link DkvServer} builder, as three instances of an application
 * would each run one: they form a cluster, a write to one is read on the others, and after one is closed the
 * other two go on.
 */
class EmbeddedClusterTest {

  @TempDir
  Path dir;

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Test
  void threeEmbeddedMembersFormAClusterAndSurviveTheLossOfOne() throws Exception {
    int[] peer = {Ports.freePort(), Ports.freePort(), Ports.freePort()};
    String cluster = "a=http://127.0.0.1:" + peer[0] + ",b=http://127.0.0.1:" + peer[1] + ",c=http://127.0.0.1:"
        + peer[2];
    List<DkvServer> members = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        String url = "http://127.0.0.1:" + peer[i];
        members.add(DkvServer.builder()
            .name(String.valueOf((char) ('a' + i)))
            .dataDir(dir.resolve("m" + i))
            .port(0)
            .peerUrls(List.of(url))
            .listenPeerUrl(url)
            .initialCluster(cluster)
            .start());
      }
      try (Client c0 = Client.builder().endpoints(members.get(0).endpoint()).build();
           Client c2 = Client.builder().endpoints(members.get(2).endpoint()).build()) {
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
            c0.getKVClient().put(bs("app/config"), bs("v1")).get(5, TimeUnit.SECONDS) != null);
        assertEquals("v1", c2.getKVClient().get(bs("app/config")).get(10, TimeUnit.SECONDS).getKvs().get(0)
            .getValue().toString(StandardCharsets.UTF_8));

        members.remove(1).close();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
            c2.getKVClient().put(bs("app/config"), bs("v2")).get(5, TimeUnit.SECONDS) != null);
        await().atMost(Duration.ofSeconds(10)).until(() -> "v2".equals(c0.getKVClient().get(bs("app/config"),
            GetOption.builder().withSerializable(true).build()).get(5, TimeUnit.SECONDS).getKvs().get(0).getValue()
            .toString(StandardCharsets.UTF_8)));
        assertEquals(3, c0.getClusterClient().listMember().get(5, TimeUnit.SECONDS).getMembers().size());
      }
    } finally {
      members.forEach(DkvServer::close);
    }
  }
}
