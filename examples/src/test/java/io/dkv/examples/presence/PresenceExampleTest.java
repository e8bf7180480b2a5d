package io.dkv.examples.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class PresenceExampleTest {

  @Test
  void theDashboardSeesEveryJoinAndLeaveIncludingAKilledMember() throws Exception {
    PresenceExample example = new PresenceExample();
    new CommandLine(example).parseArgs("--members", "2", "--ttl-s", "1", "--timeout-s", "60");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PresenceExample.Report r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertEquals("member-3", r.crashed());
    assertEquals(List.of("+member-1", "+member-2", "+member-3", "-member-1", "-member-3", "-member-2"), r.changes(),
        printed);
    assertTrue(r.finalMembers().isEmpty(), printed);
    assertTrue(printed.contains("- member-3   members: member-2"), printed);
  }
}
