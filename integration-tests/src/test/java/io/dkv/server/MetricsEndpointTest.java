package io.dkv.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /metrics and /health, as etcd's --listen-metrics-urls serves them. */
class MetricsEndpointTest {

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void kvCallsAreCountedUnderEtcdsNamesAndLabels() throws Exception {
    List<String> dkv;
    try (DkvServer server = DkvServer.builder().dataDir(dir.resolve("dkv")).port(0).metrics("127.0.0.1", 0).start()) {
      dkv = kvLines(server.endpoint(), server.metricsPort());
      String text = get(server.metricsPort(), "/metrics").body();
      assertTrue(text.contains("\netcd_debugging_mvcc_current_revision 3\n"), text);
      assertTrue(text.contains("\netcd_server_has_leader 1\n"), text);
      assertTrue(text.contains("\netcd_server_is_leader 1\n"), text);
      assertTrue(text.contains("\n# TYPE etcd_server_leader_changes_seen_total counter\netcd_server_leader_changes_seen_total 1\n"), text);
      // the last proposal's answer may reach the client a moment before the member counts it done
      await().atMost(java.time.Duration.ofSeconds(10)).until(() ->
          get(server.metricsPort(), "/metrics").body().contains("\netcd_server_proposals_pending 0\n"));
      assertTrue(text.contains("\ndkv_raft_apply_lag_entries 0\n"), text);
      long committed = metric(text, "etcd_server_proposals_committed_total");
      assertTrue(committed >= 2 && committed == metric(text, "etcd_server_proposals_applied_total"), text);
      assertTrue(metric(text, "dkv_raft_log_size_bytes") > 0, text);
    }
    assertTrue(dkv.contains(
        "grpc_server_started_total{grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"} 2"), 
        String.join("\n", dkv));
    assertTrue(dkv.contains("grpc_server_handled_total{grpc_code=\"OutOfRange\",grpc_method=\"Range\","
        + "grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"} 1"), String.join("\n", dkv));

    int metricsPort = freePort();
    try (EtcdProcess etcd = EtcdProcess.start("--listen-metrics-urls", "http://127.0.0.1:" + metricsPort)) {
      List<String> etcdLines = kvLines(etcd.endpoint(), metricsPort);
      assertEquals(etcdLines, dkv, () -> "only etcd: " + etcdLines.stream().filter(l -> !dkv.contains(l)).toList()
          + "\nonly dkv: " + dkv.stream().filter(l -> !etcdLines.contains(l)).toList());
    }
  }

  @Test
  void healthIsTrueWhileServing() throws Exception {
    try (DkvServer server = DkvServer.builder().dataDir(dir).port(0).metrics("127.0.0.1", 0).start()) {
      HttpResponse<String> health = get(server.metricsPort(), "/health");
      assertEquals(200, health.statusCode());
      assertEquals("{\"health\":\"true\"}", health.body());
      assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(
          "http://127.0.0.1:" + server.metricsPort() + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode());
    }
  }

  @Test
  void noListenerUnlessAskedFor() throws Exception {
    try (DkvServer server = DkvServer.builder().dataDir(dir).port(0).start()) {
      assertEquals(-1, server.metricsPort());
    }
  }

  @Test
  void aBusyMetricsPortFailsTheStartAndReleasesTheDataDirectory() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertThrows(IOException.class,
          () -> DkvServer.builder().dataDir(dir).port(0).metrics("127.0.0.1", busy.getLocalPort()).start());
    }
    try (DkvServer again = DkvServer.builder().dataDir(dir).port(0).start()) {
      assertEquals(-1, again.metricsPort());
    }
  }

  /** Two puts, a read and a read of a future revision; then the KV service's lines of /metrics. */
  private List<String> kvLines(String endpoint, int metricsPort) throws Exception {
    try (Client client = Client.builder().endpoints(endpoint).build()) {
      ByteSequence k = ByteSequence.from("k", StandardCharsets.UTF_8);
      client.getKVClient().put(k, k).get();
      client.getKVClient().put(k, k).get();
      client.getKVClient().get(k).get();
      assertThrows(ExecutionException.class,
          () -> client.getKVClient().get(k, GetOption.builder().withRevision(100).build()).get());
    }
    return get(metricsPort, "/metrics").body().lines()
        .filter(l -> l.startsWith("grpc_server_") && l.contains("grpc_service=\"etcdserverpb.KV\""))
        .sorted()
        .toList();
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static long metric(String text, String name) {
    return text.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.substring(name.length() + 1)))
        .findFirst().orElseThrow(() -> new AssertionError("no " + name + " in\n" + text));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
