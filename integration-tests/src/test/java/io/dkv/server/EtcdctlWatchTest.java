package io.dkv.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.dkv.server.testing.EtcdctlRevisions;
import io.dkv.server.testing.ServerPair;
import io.dkv.server.testing.Target;
import io.dkv.testing.EtcdProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** {@code etcdctl watch} (key, --prefix, --rev, --prev-kv) prints the same against dkv-server as against etcd. */
class EtcdctlWatchTest {

  @TempDir
  Path dir;

  private static final List<List<String>> WATCHES = List.of(
      List.of("watch", "k1", "--rev=1"),
      List.of("watch", "k", "--prefix", "--rev=2"),
      List.of("watch", "k", "--prefix", "--rev=3", "--prev-kv"),
      List.of("watch", "k1", "k3", "--rev=1"));

  @ParameterizedTest
  @EnumSource(Target.class)
  void etcdctlWatchPrintsTheSame(Target target) throws Exception {
    EtcdProcess.assumeInstalled();
    List<String> expected;
    List<String> actual;
    try (ServerPair pair = ServerPair.open(target, dir.resolve("dkv"))) {
      expected = run(pair.etcdPort, dir.resolve("etcd"));
      actual = run(pair.dkvPort, dir.resolve("dkv-out"));
    }
    assertEquals(expected, actual);
    assertFalse(expected.get(2).isBlank());
  }

  private static List<String> run(int port, Path out) throws Exception {
    Files.createDirectories(out);
    ctl(port, out.resolve("writes"), "put", "k1", "a");
    ctl(port, out.resolve("writes"), "put", "k2", "b");
    ctl(port, out.resolve("writes"), "put", "k1", "c");
    ctl(port, out.resolve("writes"), "del", "k", "--prefix");
    ctl(port, out.resolve("writes"), "put", "k2", "d");
    List<String> outputs = new ArrayList<>();
    for (int i = 0; i < WATCHES.size(); i++) {
      Path file = out.resolve("watch" + i);
      Process p = start(port, file, EtcdctlRevisions.shiftArgs(WATCHES.get(i), port).toArray(String[]::new));
      long[] last = {-1};
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).during(Duration.ofMillis(700))
          .until(() -> {
            long n = Files.size(file);
            boolean same = n == last[0] && n > 0;
            last[0] = n;
            return same;
          });
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
      outputs.add(Files.readString(file));
    }
    return outputs;
  }

  private static Process start(int port, Path output, String... args) throws Exception {
    return EtcdProcess.etcdctl(port, List.of(args)).redirectErrorStream(true).redirectOutput(output.toFile())
        .start();
  }

  private static void ctl(int port, Path output, String... args) throws Exception {
    Process p = start(port, output, args);
    if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("etcdctl " + String.join(" ", args) + " failed: " + Files.readString(output));
    }
  }
}
