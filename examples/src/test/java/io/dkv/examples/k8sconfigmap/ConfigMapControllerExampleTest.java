package io.dkv.examples.k8sconfigmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The example against fabric8's mock API server in CRUD mode, reached through a kubeconfig file as a cluster would be. */
class ConfigMapControllerExampleTest {

  /** Held so the level sticks (JUL keeps loggers weakly): the mock server logs every request at INFO. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private KubernetesMockServer server;

  @BeforeEach
  void start() throws Exception {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init(InetAddress.getByName("127.0.0.1"), 0);
  }

  @AfterEach
  void stop() {
    server.destroy();
  }

  @Test
  void annotatesEveryConfigMapWithTheChecksumOfItsDataAndFollowsAChange(@TempDir Path dir) throws Exception {
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, String.join("\n",
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: mock",
        "  cluster:",
        "    server: http://127.0.0.1:" + server.getPort(),
        "contexts:",
        "- name: mock",
        "  context:",
        "    cluster: mock",
        "    namespace: demo",
        "    user: mock",
        "current-context: mock",
        "users:",
        "- name: mock",
        "  user:",
        "    token: not-checked-by-the-mock",
        ""));
    ConfigMapControllerExample example = new ConfigMapControllerExample();
    new CommandLine(example).parseArgs("--kubeconfig", kubeconfig.toString(), "--demo", "--timeout-s", "60");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ConfigMapControllerExample.Report r;
    try (KubernetesClient kubernetes = example.connect()) {
      r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8), kubernetes);
      assertTrue(kubernetes.configMaps().inNamespace("demo").list().getItems().isEmpty(), "the demo cleaned up");
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertEquals("demo", r.namespace(), "the kubeconfig context's namespace");
    assertEquals(3, r.checksums().size(), printed);
    assertEquals(r.expected(), r.checksums(), printed);
    assertEquals(ChecksumReconciler.checksum(Map.of("greeting", "changed")), r.checksums().get("dkv-demo-1"),
        "the changed ConfigMap's checksum follows its new data\n" + printed);
    assertEquals(ChecksumReconciler.checksum(Map.of("greeting", "hello from dkv-demo-2")),
        r.checksums().get("dkv-demo-2"), printed);
  }

  @Test
  void theChecksumDependsOnTheDataOnly() {
    assertEquals(ChecksumReconciler.checksum(Map.of("a", "1", "b", "2")),
        ChecksumReconciler.checksum(new java.util.TreeMap<>(Map.of("b", "2", "a", "1"))));
    assertTrue(!ChecksumReconciler.checksum(Map.of("a", "1")).equals(ChecksumReconciler.checksum(Map.of("a", "2"))));
    assertEquals(ChecksumReconciler.checksum(null), ChecksumReconciler.checksum(Map.of()));
  }
}
