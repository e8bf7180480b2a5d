package io.dkv.informer;

import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.util.HashMap;

/** fabric8's mock API server on 127.0.0.1, in CRUD mode or in expectation mode. */
final class MockKubernetes {
  private MockKubernetes() {}

  /** A mock that stores what is created and serves list and watch from it (plus any expectations). */
  static KubernetesMockServer crud() {
    var responses = new HashMap<io.fabric8.mockwebserver.ServerRequest, java.util.Queue<io.fabric8.mockwebserver.ServerResponse>>();
    return started(new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false));
  }

  /** A mock that answers only what the test expects. */
  static KubernetesMockServer expectations() {
    return started(new KubernetesMockServer(false));
  }

  private static KubernetesMockServer started(KubernetesMockServer server) {
    try {
      server.init(InetAddress.getByName("127.0.0.1"), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return server;
  }

}
