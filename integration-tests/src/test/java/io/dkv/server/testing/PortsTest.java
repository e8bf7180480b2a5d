package io.dkv.server.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dkv.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Scanner;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {

  private static final Path RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

  @Test
  void portsAreDrawnBelowTheKernelsEphemeralRangeAndNeverTwice() throws IOException {
    assumeTrue(Files.exists(RANGE), "no " + RANGE + " (not Linux): Ports falls back to the kernel's choice");
    int low;
    try (Scanner s = new Scanner(RANGE)) {
      low = s.nextInt();
    }
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      int port = Ports.freePort();
      assertTrue(port < low, port + " is in the ephemeral range starting at " + low);
      assertTrue(seen.add(port), port + " handed out twice");
    }
  }
}
