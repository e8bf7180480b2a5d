package io.dkv.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The documented command line: the launcher lists every example and runs one by name, with its exit code. */
class ExamplesTest {

  @Test
  void helpListsEveryExample() {
    StringWriter text = new StringWriter();
    CommandLine cli = new CommandLine(new Examples()).setOut(new PrintWriter(text));
    assertEquals(0, cli.execute("--help"));
    for (String name : new String[] {"job-worker", "cache", "leader-election", "presence", "replicaset-controller",
        "kubernetes-configmap-controller"}) {
      assertTrue(text.toString().contains(name), name + " in\n" + text);
    }
  }

  @Test
  void runsAnExampleByNameAndExitsZeroWhenItsChecksHold() {
    assertEquals(0, new CommandLine(new Examples()).execute("cache", "--keys", "5", "--writes-per-second", "50",
        "--duration-s", "1"));
  }

  @Test
  void badOptionsExitWithAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Examples()).setErr(new PrintWriter(err));
    assertEquals(2, cli.execute("job-worker", "--no-such-option"));
    assertTrue(err.toString().contains("--no-such-option"), err.toString());
  }

  @Test
  void targetRejectsAnEndpointWithoutScheme() {
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Target.open("127.0.0.1:2379"));
    assertTrue(e.getMessage().contains("http://host:port"), e.getMessage());
  }
}
