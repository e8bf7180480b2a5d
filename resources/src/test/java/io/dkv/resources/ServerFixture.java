package io.dkv.resources;

import io.dkv.client.DkvClient;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** One server (dkv-server or etcd) and one client for a whole test class; tests use distinct namespaces. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ServerFixture {
  private static final AtomicInteger IDS = new AtomicInteger();

  protected DkvClient client;
  protected String endpoint;
  protected DkvResources resources;

  /** Starts the server; returns its endpoint. */
  abstract String startServer(Path dir) throws Exception;

  abstract void stopServer();

  @BeforeAll
  void startAll(@TempDir Path tmp) throws Exception {
    endpoint = startServer(tmp.resolve("server"));
    client = DkvClient.connect(endpoint);
    resources = DkvResources.create(client);
  }

  @AfterAll
  void stopAll() {
    try {
      if (client != null) {
        client.close();
      }
    } finally {
      stopServer();
    }
  }

  /** A namespace no other test uses. */
  static String namespace() {
    return "ns-" + IDS.incrementAndGet();
  }
}
