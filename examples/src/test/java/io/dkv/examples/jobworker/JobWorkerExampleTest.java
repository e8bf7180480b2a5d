package io.dkv.examples.jobworker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class JobWorkerExampleTest {

  @Test
  void everyJobRunsOnceAndTheWatchDrivenPoolReadsOnlyItsSnapshots() throws Exception {
    JobWorkerExample example = new JobWorkerExample();
    new CommandLine(example).parseArgs("--jobs", "120", "--rate", "100", "--nodes", "3", "--workers", "2",
        "--poll-interval-ms", "50", "--work-ms", "1");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    JobWorkerExample.Report r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);

    for (ModeResult m : new ModeResult[] {r.polling(), r.watch()}) {
      assertEquals(120, m.completed(), m.mode() + ": every job ran\n" + printed);
      assertEquals(0, m.neverRan(), m.mode());
      assertEquals(0, m.ranTwice(), m.mode() + ": no job ran twice");
      assertEquals(120, m.doneKeys(), m.mode() + ": one done/ key per job");
    }
    // the pool reads only its three initial snapshots; every polling claim needs a read first
    assertEquals(3, r.watch().reads(), printed);
    // the embedded server counts the same reads (nothing else reads it)
    assertEquals(r.watch().reads(), r.watch().serverReads(), printed);
    assertEquals(r.polling().reads(), r.polling().serverReads(), printed);
    assertTrue(r.polling().reads() >= 120, printed);
    assertTrue(r.watch().readsPerSecond() < r.polling().readsPerSecond(), printed);
    assertTrue(printed.contains("server reads/s") && printed.contains("pick-up latency p99"), printed);
  }

  @Test
  void rejectsNonsenseOptions() {
    JobWorkerExample example = new JobWorkerExample();
    new CommandLine(example).parseArgs("--jobs", "0");
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> example.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
  }
}
