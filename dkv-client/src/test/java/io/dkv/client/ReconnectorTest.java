package io.dkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The reconnect policy: jetcd's channel is found (by reflection, so this fails when a jetcd upgrade moves it), and
 * while no server answers the client cuts gRPC's reconnect backoff short every half second at most. (That a worker and a
 * controller act within 2 s of a server's return after a 45 s outage is {@code OutageRecoveryTest} in
 * controller-runtime.)
 */
class ReconnectorTest {

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void findsTheChannelThatCarriesTheRequests() throws Exception {
    try (DkvClient client = DkvClient.connect("127.0.0.1:" + closedPort())) {
      assertTrue(client.reconnector().isPresent(), "the reconnector started");
      ManagedChannel channel = Reconnector.channelOf(client.jetcd());
      assertNotNull(channel);
      assertEquals(ConnectivityState.IDLE, channel.getState(false), "lazy: nothing connects before a request");
      assertThrows(DkvException.class, () -> client.put("k", "v"));
      ConnectivityState after = channel.getState(false);
      assertTrue(after == ConnectivityState.TRANSIENT_FAILURE || after == ConnectivityState.CONNECTING,
          "the request went through this channel, which has been trying to connect since: " + after);
    }
  }

  @Test
  void whileNoServerAnswersTheBackoffIsCutShortEveryHalfSecondAtMost() throws IOException {
    int port = closedPort();
    try (DkvClient client = DkvClient.builder().endpoints("127.0.0.1:" + port).build()) {
      assertThrows(DkvException.class, () -> client.get("k"));
      Reconnector r = client.reconnector().orElseThrow();
      // after 100, 200, 400 ms, then every 500 ms (each less a random jitter of up to half): 5 cuts within 1.7 s;
      // gRPC alone would wait 1 s, then 1.6 s, ...
      await().atMost(Duration.ofSeconds(8)).until(() -> r.resets() >= 5);
    }
  }
}
