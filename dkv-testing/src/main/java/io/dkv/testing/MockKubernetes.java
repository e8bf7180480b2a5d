package io.dkv.testing;

import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * fabric8's mock Kubernetes API server on 127.0.0.1, in CRUD mode or in expectation mode. Needs
 * {@code io.fabric8:kubernetes-server-mock} on the test class path (an optional dependency of dkv-testing).
 *
 * <pre>{@code
 * KubernetesMockServer api = MockKubernetes.crud();
 * KubernetesClient k8s = api.createClient();
 * }</pre>
 */
public final class MockKubernetes {
  /** Held so the level sticks (JUL keeps loggers weakly): the mock server logs every request at INFO. */
  private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  private MockKubernetes() {}

  /** A mock that stores what is created and serves list and watch from it (plus any expectations). */
  public static KubernetesMockServer crud() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    return started(new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false));
  }

  /** A mock that answers only what the test expects. */
  public static KubernetesMockServer expectations() {
    return started(new KubernetesMockServer(false));
  }

  private static KubernetesMockServer started(KubernetesMockServer server) {
    MOCK_LOG.setLevel(Level.WARNING);
    try {
      server.init(InetAddress.getByName("127.0.0.1"), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return server;
  }
}
