package io.dkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.testing.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failing fast applies when no endpoint answers, not when one of several is down: requests go to the endpoints
 * that answer.
 */
class PartlyDownClusterTest {

  @TempDir
  Path dir;

  @Test
  void requestsGoToTheEndpointThatAnswers() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    try (TestServer.Running server = TestServer.DKV.start(dir.resolve("dkv"));
        DkvClient client = DkvClient.builder().endpoints("127.0.0.1:" + closed, server.endpoint())
            .connectTimeout(Duration.ofSeconds(2)).build()) {
      for (int i = 0; i < 50; i++) {
        client.put("k" + i, "v" + i);
        assertEquals("v" + i, client.get("k" + i).orElseThrow().value());
      }
    }
  }
}
