package io.dkv.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.TestServer;
import io.dkv.examples.cache.CacheExample;
import io.dkv.examples.jobworker.JobWorkerExample;
import io.dkv.examples.jobworker.ModeResult;
import io.dkv.examples.leaderelection.LeaderElectionExample;
import io.dkv.testing.EtcdProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Examples given {@code --endpoint}: the same programs against a real etcd (skipped, saying why, without the
 * binary, unless {@code -Detcd.required=true}).
 */
class OnEtcdTest {

  static TestServer.Running etcd;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    EtcdProcess.assumeInstalled();
    etcd = TestServer.ETCD.start(dir);
  }

  @AfterAll
  static void stop() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void jobWorkerOnEtcdCountsTheReadsEtcdCounts() throws Exception {
    JobWorkerExample example = new JobWorkerExample();
    // etcd serves /metrics on its client URL
    new CommandLine(example).parseArgs("--endpoint", etcd.endpoint(), "--metrics-url", etcd.endpoint() + "/metrics",
        "--jobs", "60", "--rate", "100", "--poll-interval-ms", "50", "--work-ms", "1");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    JobWorkerExample.Report r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);
    for (ModeResult m : new ModeResult[] {r.polling(), r.watch()}) {
      assertEquals(60, m.completed(), printed);
      assertEquals(0, m.ranTwice(), printed);
      assertEquals(60, m.doneKeys(), printed);
      assertEquals(m.reads(), m.serverReads(), "etcd counted the same reads\n" + printed);
    }
    assertEquals(3, r.watch().reads(), printed);
    assertTrue(printed.contains("against " + etcd.endpoint()), printed);
  }

  @Test
  void leaderElectionOnEtcd() throws Exception {
    LeaderElectionExample example = new LeaderElectionExample();
    new CommandLine(example).parseArgs("--endpoint", etcd.endpoint(), "--ttl-s", "1", "--tick-ms", "100",
        "--ticks-before-kill", "2", "--ticks-after", "1", "--timeout-s", "60");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    LeaderElectionExample.Report r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(!r.newLeader().equals(r.firstLeader()) && r.killedIsDead(), printed);
  }

  @Test
  void cacheOnEtcd() throws Exception {
    CacheExample example = new CacheExample();
    new CommandLine(example).parseArgs("--endpoint", etcd.endpoint(), "--keys", "10", "--writes-per-second", "50",
        "--duration-s", "1", "--ttl-ms", "60000");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CacheExample.Report r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, r.watch().staleAtEnd(), printed);
    assertEquals(0, r.watchedCache().staleAtEnd(), printed);
    assertTrue(r.ttl().staleAtEnd() > 0, printed);
  }
}
