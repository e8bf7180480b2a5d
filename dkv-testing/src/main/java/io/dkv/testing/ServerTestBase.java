package io.dkv.testing;

import io.dkv.client.DkvClient;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * One server ({@link TestServer}) and one {@link DkvClient} for a whole test class; tests keep apart by using
 * distinct key prefixes ({@link #unique(String)}). A contract extends this, and each server's test class is just a
 * constructor:
 *
 * <pre>{@code
 * class EtcdThingsTest extends ThingsContract {
 *   EtcdThingsTest() { super(TestServer.ETCD); }
 * }
 * }</pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ServerTestBase {
  private static final AtomicInteger IDS = new AtomicInteger();

  private final TestServer kind;
  private TestServer.Running server;

  /** The server's client endpoint (set before the subclass's {@code @BeforeAll} methods run). */
  protected String endpoint;
  /** A client connected to {@link #endpoint}, closed after all tests. */
  protected DkvClient client;

  protected ServerTestBase(TestServer kind) {
    this.kind = kind;
  }

  @BeforeAll
  protected final void startServerAndClient(@TempDir Path tmp) throws Exception {
    server = kind.start(tmp.resolve("server"));
    endpoint = server.endpoint();
    client = DkvClient.connect(endpoint);
  }

  @AfterAll
  protected final void stopServerAndClient() {
    try {
      if (client != null) {
        client.close();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  /** A fresh client on the same server (for a second process in a scenario); the caller closes it. */
  protected DkvClient newClient() {
    return DkvClient.connect(endpoint);
  }

  /** {@code prefix} followed by a number no other call returned, and a slash. */
  protected static String unique(String prefix) {
    return prefix + IDS.incrementAndGet() + "/";
  }
}
