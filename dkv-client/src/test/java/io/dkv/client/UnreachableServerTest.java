package io.dkv.client;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A request that cannot reach any server fails within the connect timeout (plus about a second of retries),
 * naming the endpoint and the cause; a server that accepts connections but never answers is bounded by the
 * request timeout. The bounds are the requirement (13), measured around the call; {@link #MARGIN} is
 * added for a loaded CI machine. ({@code https://} against a plain-text server: {@code HttpsAgainstPlainTextTest}
 * in integration-tests.)
 */
class UnreachableServerTest {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** The issue asks for connect timeout + about a second; this much more is allowed for a busy machine. */
  private static final Duration MARGIN = Duration.ofSeconds(1);

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static DkvClient client(String endpoint) {
    return DkvClient.builder().endpoints(endpoint).connectTimeout(CONNECT_TIMEOUT)
        .requestTimeout(Duration.ofSeconds(30)).build();
  }

  /** Runs {@code call}, which must fail; returns the exception after checking it came within {@code bound}. */
  private static DkvException failsWithin(Duration bound, DkvClient client, Consumer<DkvClient> call) {
    long start = System.nanoTime();
    DkvException e = assertThrows(DkvException.class, () -> call.accept(client));
    long took = System.nanoTime() - start;
    System.out.printf("failed after %d ms: %s%n", TimeUnit.NANOSECONDS.toMillis(took), e.getMessage());
    assertTrue(took <= bound.toNanos(), "failed only after " + TimeUnit.NANOSECONDS.toMillis(took) + " ms (bound "
        + bound.toMillis() + " ms): " + e);
    return e;
  }

  private static Duration connectBound() {
    return CONNECT_TIMEOUT.plusSeconds(1).plus(MARGIN);
  }

  private static void assertMessage(DkvException e, String... parts) {
    for (String p : parts) {
      assertTrue(String.valueOf(e.getMessage()).contains(p), "'" + p + "' missing from: " + e.getMessage());
    }
  }

  @Test
  void putAndGetAgainstAClosedPortFailFastNamingEndpointAndCause() throws IOException {
    int port = closedPort();
    for (String endpoint : List.of("127.0.0.1:" + port, "http://127.0.0.1:" + port)) {
      try (DkvClient client = client(endpoint)) {
        DkvException put = failsWithin(connectBound(), client, c -> c.put("k", "v"));
        assertMessage(put, "127.0.0.1:" + port, "connection refused");
        DkvException get = failsWithin(connectBound(), client, c -> c.get("k"));
        assertMessage(get, "127.0.0.1:" + port, "connection refused");
        // and again, once the client has failed to connect before
        assertMessage(failsWithin(connectBound(), client, c -> c.put("k", "v")), "connection refused");
      }
    }
  }

  @Test
  void everyEndpointIsNamedWhenNoneAnswers() throws IOException {
    int a = closedPort();
    int b = closedPort();
    try (DkvClient client = DkvClient.builder().endpoints("127.0.0.1:" + a, "127.0.0.1:" + b)
        .connectTimeout(CONNECT_TIMEOUT).build()) {
      DkvException e = failsWithin(connectBound(), client, c -> c.put("k", "v"));
      assertMessage(e, "127.0.0.1:" + a, "127.0.0.1:" + b, "connection refused");
    }
  }

  @Test
  void anUnknownHostFailsFastSayingSo() {
    try (DkvClient client = client("no-such-host.invalid:2379")) {
      DkvException e = failsWithin(connectBound(), client, c -> c.put("k", "v"));
      assertMessage(e, "no-such-host.invalid:2379", "unknown host");
    }
  }

  @Test
  void anIpv6EndpointIsReachedAndNamedInBrackets() throws IOException {
    java.net.NetworkInterface lo = java.net.NetworkInterface.getByInetAddress(java.net.InetAddress.getLoopbackAddress());
    org.junit.jupiter.api.Assumptions.assumeTrue(lo != null && lo.inetAddresses()
        .anyMatch(a -> a instanceof java.net.Inet6Address), "no IPv6 loopback address here");
    int port = closedPort(); // closed on 127.0.0.1, and (nothing of this test listens there) on ::1
    try (DkvClient client = client("[::1]:" + port)) {
      DkvException e = failsWithin(connectBound(), client, c -> c.put("k", "v"));
      assertMessage(e, "cannot reach [::1]:" + port + ": connection refused");
    }
  }

  /**
   * A server whose accept queue is full drops new connection requests (Linux, with tcp_abort_on_overflow off):
   * the connect hangs as it would towards a host that is gone, so this is what {@code connectTimeout} bounds.
   */
  @Test
  void aConnectThatHangsFailsAfterTheConnectTimeout() throws IOException {
    List<Socket> queued = new ArrayList<>();
    try (ServerSocket full = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      boolean hangs = false;
      for (int i = 0; i < 16 && !hangs; i++) {
        Socket s = new Socket();
        try {
          s.connect(full.getLocalSocketAddress(), 300);
          queued.add(s);
        } catch (java.net.SocketTimeoutException e) {
          hangs = true;
          s.close();
        }
      }
      org.junit.jupiter.api.Assumptions.assumeTrue(hangs, "connects to a full accept queue do not hang here");
      try (DkvClient client = client("127.0.0.1:" + full.getLocalPort())) {
        long start = System.nanoTime();
        DkvException e = failsWithin(connectBound(), client, c -> c.put("k", "v"));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(ms >= CONNECT_TIMEOUT.toMillis() - 200, "failed after " + ms + " ms, before the timeout: " + e);
        assertMessage(e, "cannot reach 127.0.0.1:" + full.getLocalPort() + ": connection timed out");
      }
    } finally {
      for (Socket s : queued) {
        s.close();
      }
    }
  }

  /** Accepts connections and never says a word: up, but not answering. */
  @Test
  void aServerThatNeverAnswersIsBoundedByTheRequestTimeout() throws Exception {
    List<Socket> accepted = new ArrayList<>();
    try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            accepted.add(silent.accept());
          }
        } catch (IOException closed) {
          // done
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      Duration requestTimeout = Duration.ofSeconds(2);
      try (DkvClient client = DkvClient.builder().endpoints("127.0.0.1:" + silent.getLocalPort())
          .connectTimeout(CONNECT_TIMEOUT).requestTimeout(requestTimeout).build()) {
        long start = System.nanoTime();
        DkvException e = assertThrows(DkvException.class, () -> client.put("k", "v"));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(took >= requestTimeout.toMillis() - 50 && took <= requestTimeout.plus(MARGIN).toMillis(),
            "took " + took + " ms: " + e);
        assertMessage(e, "no answer from 127.0.0.1:" + silent.getLocalPort() + " within 2 s");
      }
    } finally {
      for (Socket s : accepted) {
        s.close();
      }
    }
  }
}
