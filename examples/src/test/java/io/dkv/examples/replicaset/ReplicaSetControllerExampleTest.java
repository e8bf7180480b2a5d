package io.dkv.examples.replicaset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ReplicaSetControllerExampleTest {

  @Test
  void keepsTheOwnedPodsOfEachReplicaSetAcrossAControllerAndServerRestart() throws Exception {
    ReplicaSetControllerExample example = new ReplicaSetControllerExample();
    new CommandLine(example).parseArgs("--replicasets", "3", "--replicas", "2", "--timeout-s", "60");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ReplicaSetControllerExample.Report r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);

    // web scaled to 1 and api's pod 0 deleted while the controller was down; cron deleted before
    assertEquals(Map.of("web", List.of("web-0"), "api", List.of("api-0", "api-1", "api-2")), r.expected(), printed);
    assertEquals(r.expected(), r.pods(), "each pod owned, by uid, by its ReplicaSet\n" + printed);
    assertEquals("cron", r.deleted());
    assertTrue(r.deletedsPods().isEmpty(), "the deleted ReplicaSet's pods were collected\n" + printed);
    assertTrue(r.serverRestarted(), printed);
    assertTrue(printed.contains("a new controller started; converged"), printed);
  }

  @Test
  void rejectsTooFewReplicaSets() {
    ReplicaSetControllerExample example = new ReplicaSetControllerExample();
    new CommandLine(example).parseArgs("--replicasets", "2");
    assertThrows(IllegalArgumentException.class,
        () -> example.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
  }
}
