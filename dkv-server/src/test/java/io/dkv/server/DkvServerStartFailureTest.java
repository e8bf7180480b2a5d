package io.dkv.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dkv.server.storage.Backend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

/** A start that fails at any step leaves nothing open: no listener, no thread of the server, no RocksDB lock. */
class DkvServerStartFailureTest {

  @TempDir
  Path dir;

  @Test
  void failureAfterTheStoreAndThreadsExistUnwindsEverything() throws Exception {
    Path data = dir.resolve("data");
    try (Backend b = Backend.open(data); WriteBatch wb = new WriteBatch()) {
      b.putLease(wb, 7, new byte[] {(byte) 0xff}); // not a lease record: the lessor fails to load it
      b.write(wb, true);
    }
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    int port = freePort();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> DkvServer.builder().dataDir(data).port(port).metrics("127.0.0.1", 0).start());
    assertEquals("corrupt lease record 7", e.getMessage());

    try (Backend reopened = Backend.open(data)) { // the RocksDB lock was released
      assertEquals(-1, reopened.getMeta("no-such-meta", -1));
    }
    try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
      assertEquals(port, again.getLocalPort()); // the client listener was closed
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(List.of(), serverThreadsSince(before)));
  }

  @Test
  void busyMetricsPortFailsBeforeTheDataDirectoryExists() throws Exception {
    Path data = dir.resolve("data");
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int clientPort = freePort();
      IOException e = assertThrows(IOException.class, () -> DkvServer.builder().dataDir(data).port(clientPort)
          .metrics("127.0.0.1", busy.getLocalPort()).start());
      assertEquals("cannot listen on 127.0.0.1:" + busy.getLocalPort() + ": address already in use", e.getMessage());
    }
    assertFalse(Files.exists(data));
  }

  @Test
  void closeReleasesTheDataDirectoryAndThePort() throws Exception {
    Path data = dir.resolve("data");
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    int port;
    try (DkvServer server = DkvServer.builder().dataDir(data).port(0).metrics("127.0.0.1", 0).start()) {
      port = server.port();
      assertThrows(IOException.class, () -> Backend.open(data.resolve("member/state"))); // held while it runs
    }
    try (Backend reopened = Backend.open(data.resolve("member/state"));
         ServerSocket again = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
      assertEquals(port, again.getLocalPort());
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(List.of(), serverThreadsSince(before)));
  }

  /** The server's own threads (named dkv-...) alive now that were not before. */
  private static List<String> serverThreadsSince(Set<Thread> before) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !before.contains(t) && t.getName().startsWith("dkv-"))
        .map(Thread::getName).sorted().toList();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }
}
