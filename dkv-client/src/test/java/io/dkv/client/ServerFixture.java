package io.dkv.client;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** One server (dkv-server or etcd) and one client for a whole test class; tests use distinct key prefixes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ServerFixture {

  private static final AtomicInteger IDS = new AtomicInteger();

  protected DkvClient client;
  protected String endpoint;

  /** Starts the server; returns its endpoint. */
  abstract String startServer(Path dir) throws Exception;

  abstract void stopServer();

  @BeforeAll
  void startAll(@TempDir Path tmp) throws Exception {
    endpoint = startServer(tmp.resolve("server"));
    client = DkvClient.connect(endpoint);
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

  /** A fresh client on the same server (for a second process in a scenario); the caller closes it. */
  protected DkvClient newClient() {
    return DkvClient.connect(endpoint);
  }

  static String unique(String prefix) {
    return prefix + IDS.incrementAndGet() + "/";
  }
}
