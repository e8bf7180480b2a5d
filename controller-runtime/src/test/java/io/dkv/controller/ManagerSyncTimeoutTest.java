package io.dkv.controller;

import io.dkv.testing.LogCapture;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A manager whose server is down says why its informers do not sync: the timeout names each unsynced informer with
 * its last error, and a WARN line says so once while waiting. An informer against a closed port knows why within
 * the connect timeout.
 */
class ManagerSyncTimeoutTest {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void theSyncTimeoutNamesEachUnsyncedInformerWithItsLastError() throws IOException {
    int port = closedPort();
    try (DkvClient client = DkvClient.builder().endpoints("127.0.0.1:" + port).connectTimeout(CONNECT_TIMEOUT)
        .build();
        LogCapture log = new LogCapture(Manager.class);
        Manager manager = Manager.builder().syncTimeout(Duration.ofSeconds(3)).build()) {
      SharedIndexInformer<Versioned<String>> in = SharedIndexInformer
          .builder(ListerWatchers.etcd(client, "in/", Codec.string())).build();
      SharedIndexInformer<Versioned<String>> out = SharedIndexInformer.builder(ListerWatchers.etcd(client, "out/",
          Codec.string())).build();
      manager.add(in).add(out);

      IllegalStateException e = assertThrows(IllegalStateException.class, manager::start);
      String m = e.getMessage();
      assertTrue(m.startsWith("informers not synced within PT3S: "), m);
      for (String source : List.of("etcd:in/", "etcd:out/")) {
        assertTrue(m.contains("informer " + source + " (last error: "), source + " missing from: " + m);
      }
      assertTrue(m.contains("cannot reach 127.0.0.1:" + port + ": connection refused"), m);
      assertEquals(2, e.getSuppressed().length, "each informer's last error is attached");

      List<String> warnings = log.at(Level.WARN);
      assertEquals(2, warnings.size(), "one WARN per informer while waiting: " + warnings);
      assertTrue(warnings.get(0).contains("cannot reach its source") && warnings.get(0).contains("127.0.0.1:" + port)
          && warnings.get(0).contains("connection refused"), warnings.get(0));
    }
  }

  @Test
  void anInformerAgainstAClosedPortKnowsWhyWithinTheConnectTimeout() throws IOException {
    int port = closedPort();
    try (DkvClient client = DkvClient.builder().endpoints("127.0.0.1:" + port).connectTimeout(CONNECT_TIMEOUT)
        .build();
        SharedIndexInformer<Versioned<String>> in = SharedIndexInformer.builder(ListerWatchers.etcd(client, "in/",
            Codec.string())).build()) {
      long start = System.nanoTime();
      in.start();
      // the bound: connect timeout + about a second (plus 1 s for a loaded CI machine)
      await().atMost(CONNECT_TIMEOUT.plusSeconds(2)).pollInterval(Duration.ofMillis(10))
          .until(() -> in.lastError().isPresent());
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      System.out.printf("informer knew after %d ms: %s%n", ms, in.lastError().orElseThrow().getMessage());
      assertTrue(String.valueOf(in.lastError().orElseThrow().getMessage())
          .contains("cannot reach 127.0.0.1:" + port + ": connection refused"), in.lastError().toString());
    }
  }
}
