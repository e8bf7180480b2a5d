package io.dkv.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for the servers tests and benchmarks start.
 *
 * <p>Ports are drawn below the kernel's ephemeral range: a port the kernel hands out for {@code bind(0)} comes
 * from the range it also takes outgoing connections' local ports from, and between the moment such a port was
 * found free and the moment a server process binds it, a connection (a cluster has dozens: clients, peer links,
 * proxies) could take it (a benchmark's member failed with {@code Address already in use} so). A port is handed
 * out once per JVM.
 */
public final class Ports {
  private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  private static final int LOWEST = 10_000;
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private Ports() {}

  /** A loopback port that was free a moment ago, outside the kernel's ephemeral range, not handed out before. */
  public static int freePort() throws IOException {
    int below = ephemeralLow();
    for (int attempt = 0; attempt < 10_000 && below > LOWEST; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, below);
      if (HANDED_OUT.add(port) && bindable(port)) {
        return port;
      }
    }
    // no range known (not Linux), or none left below it: the kernel's choice
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (HANDED_OUT.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
    throw new IOException("no free loopback port found");
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  /** The lowest port of the kernel's ephemeral range; {@link #LOWEST} if it is not known. */
  private static int ephemeralLow() {
    try {
      // by lines: Files.readString of this file gave "3" (a /proc file reports a size of 0)
      return Integer.parseInt(Files.readAllLines(EPHEMERAL_RANGE).get(0).trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException unknown) {
      return LOWEST;
    }
  }
}
