package io.dkv.client;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code https://} means TLS or an error, never plain text: against a plain-text dkv-server a request fails within
 * the connect timeout (plus a second, plus a second of margin for a loaded CI machine), naming the endpoint and
 * TLS.
 */
class HttpsAgainstPlainTextTest {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

  @TempDir
  Path dir;

  @Test
  void httpsAgainstAPlainTextServerFailsNamingEndpointAndTls() throws Exception {
    try (TestServer.Running server = TestServer.DKV.start(dir.resolve("plain"))) {
      String hostPort = server.endpoint().replaceFirst("^http://", "");
      try (DkvClient plain = DkvClient.builder().endpoints(hostPort).connectTimeout(CONNECT_TIMEOUT).build()) {
        plain.put("k", "v"); // the server is up and serves plain text
      }
      try (DkvClient tls = DkvClient.builder().endpoints("https://" + hostPort).connectTimeout(CONNECT_TIMEOUT)
          .build()) {
        long start = System.nanoTime();
        DkvException e = assertThrows(DkvException.class, () -> tls.put("k", "v"));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(ms <= CONNECT_TIMEOUT.plusSeconds(2).toMillis(), "failed only after " + ms + " ms: " + e);
        assertTrue(e.getMessage().contains("cannot reach " + hostPort + ": TLS handshake failed"), e.getMessage());
      }
    }
  }
}
