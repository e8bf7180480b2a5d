package io.dkv.examples.leaderelection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class LeaderElectionExampleTest {

  @Test
  void anotherWorkerProcessTakesOverWhenTheLeaderIsKilled() throws Exception {
    LeaderElectionExample example = new LeaderElectionExample();
    new CommandLine(example).parseArgs("--workers", "3", "--ttl-s", "1", "--tick-ms", "100",
        "--ticks-before-kill", "2", "--ticks-after", "2", "--timeout-s", "90");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    LeaderElectionExample.Report r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertNotEquals(r.firstLeader(), r.newLeader(), printed);
    assertTrue(r.killedIsDead(), printed);
    // the work was done by one leader at a time: the first leader's ticks, then only the new leader's
    List<String> writers = r.ticks().stream().map(t -> t.substring(0, t.indexOf(' '))).toList();
    int switchAt = writers.indexOf(r.newLeader());
    assertTrue(switchAt >= 2, printed);
    assertTrue(writers.subList(0, switchAt).stream().allMatch(r.firstLeader()::equals), printed);
    assertTrue(writers.subList(switchAt, writers.size()).stream().allMatch(r.newLeader()::equals), printed);
    assertTrue(writers.size() - switchAt >= 2, printed);
    // each leader counted its ticks from 1: the new leader started its own term
    assertEquals(r.newLeader() + " tick 1", r.ticks().get(switchAt), printed);
    assertTrue(printed.contains("killing the leader " + r.firstLeader()), printed);
    assertTrue(printed.contains(r.newLeader() + ": leading"), printed);
  }
}
