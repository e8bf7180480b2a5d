package io.dkv.examples.docs;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Lease;
import io.dkv.client.Subscription;
import io.dkv.client.Versioned;
import io.dkv.server.DkvServer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the snippets of docs/client.md against an embedded dkv-server and checks that they do what the guide says. */
class ClientGuideTest {

  @TempDir
  static Path dir;
  static DkvServer server;
  static DkvClient client;

  @BeforeAll
  static void start() throws Exception {
    server = DkvServer.builder().dataDir(dir.resolve("data")).port(0).start();
    client = DkvClient.connect(server.endpoint());
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void typedValues() {
    Versioned<ClientGuide.Order> o = ClientGuide.typedValues(client);
    assertEquals(new ClientGuide.Order("o1", 3), o.value());
    assertEquals(1, o.version());
    assertTrue(client.get("order:1").isEmpty(), "deleted at the end");
  }

  @Test
  void watching() {
    ClientGuide.OrderCache cache = new ClientGuide.OrderCache();
    client.put("orders/a", new ClientGuide.Order("a", 1));
    try (Subscription s = ClientGuide.watching(client, cache)) {
      await().until(() -> cache.orders.containsKey("orders/a"));
      client.put("orders/b", new ClientGuide.Order("b", 2));
      client.delete("orders/a");
      await().until(() -> cache.orders.equals(Map.of("orders/b", new ClientGuide.Order("b", 2))));
    }
  }

  @Test
  void listWatch() {
    Map<String, ClientGuide.Order> cache = new java.util.concurrent.ConcurrentHashMap<>();
    client.put("orders/lw", new ClientGuide.Order("lw", 1));
    try (var w = ClientGuide.listWatch(client, cache)) {
      assertEquals(new ClientGuide.Order("lw", 1), cache.get("orders/lw"), "listed");
      client.put("orders/lw2", new ClientGuide.Order("lw2", 2));
      client.delete("orders/lw");
      await().until(() -> cache.get("orders/lw2") != null && !cache.containsKey("orders/lw"));
    } finally {
      client.delete("orders/lw2"); // the other tests watch orders/ too
    }
  }

  @Test
  void counters() {
    assertEquals(0, ClientGuide.counters(client), "add(1) then compareAndSet(1, 0)");
    assertEquals("0", client.get("stats/visits").orElseThrow().value());
  }

  @Test
  void leases() {
    ClientGuide guide = new ClientGuide();
    Lease lease = guide.leases(client);
    assertFalse(lease.isAlive());
    assertTrue(guide.working, "a revoke is not a loss");
    assertFalse(lease.lost().isDone());
  }

  @Test
  void locks() throws InterruptedException {
    ClientGuide.locks(client);
    assertEquals("42", client.get("stats/last-order").orElseThrow().value());
    assertTrue(client.list("locks/orders/", Codec.string()).isEmpty(), "released");
  }

  @Test
  void election() throws InterruptedException {
    ClientGuide guide = new ClientGuide();
    Optional<Versioned<String>> leader = guide.election(client);
    assertEquals("node-1 (epoch 2)", leader.orElseThrow().value());
    assertTrue(client.list("elections/scheduler/", Codec.string()).isEmpty(), "resigned");
  }

  @Test
  void presence() {
    ClientGuide guide = new ClientGuide();
    Map<String, String> now = guide.presence(client);
    assertEquals(Map.of("worker-7", "10.0.0.7:8080"), now);
    assertTrue(client.presence("presence/workers/").members().isEmpty(), "left at once");
  }

  @Test
  void embedded() throws Exception {
    ClientGuide.embedded(dir.resolve("other"));
    try (DkvServer again = DkvServer.builder().dataDir(dir.resolve("other")).port(0).start();
        DkvClient reader = DkvClient.connect(again.endpoint())) {
      assertEquals("hello", reader.get("greeting").orElseThrow().value(), "the embedded server's data is durable");
    }
  }
}
