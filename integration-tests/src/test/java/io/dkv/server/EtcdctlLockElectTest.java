package io.dkv.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.dkv.server.KvCompatTest.bs;

import io.dkv.server.testing.ServerPair;
import io.dkv.server.testing.Target;
import io.dkv.testing.EtcdProcess;
import io.dkv.server.testing.Transcript;
import io.etcd.jetcd.api.RangeRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code etcdctl lock} (contended by two etcdctl processes) and {@code etcdctl elect} (a candidate, a
 * successor and an observer) behave and print the same against dkv-server as against etcd (lease ids,
 * which the server picks, replaced by a placeholder).
 */
class EtcdctlLockElectTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(Target.class)
  void etcdctlLockAndElectWorkAsAgainstEtcd(Target target) throws Exception {
    EtcdProcess.assumeInstalled();
    try (ServerPair pair = ServerPair.open(target, dir.resolve("dkv"))) {
      List<String> expected = run(pair.etcdPort, dir.resolve("etcd"));
      assertTrue(expected.get(0).contains("L/<lease>") && expected.get(0).endsWith("held: false"), expected.get(0));
      assertTrue(expected.get(1).contains("second-has-it"), expected.get(1));
      assertTrue(expected.get(6).contains("p1") && expected.get(6).contains("p2"), expected.get(6));
      assertEquals(expected, run(pair.dkvPort, dir.resolve("dkv-out")));
    }
  }

  private static List<String> run(int port, Path out) throws Exception {
    Files.createDirectories(out);
    List<String> results = new ArrayList<>();
    // lock: a holder, and a second caller that gets it only when the holder goes
    Path holderOut = out.resolve("holder");
    Process holder = start(port, holderOut, "lock", "L");
    awaitOutput(holderOut, "L/");
    Path secondOut = out.resolve("second");
    Process second = start(port, secondOut, "lock", "L", "echo", "second-has-it");
    await().atMost(Duration.ofSeconds(10)).until(() -> keys(port, out, "L/") == 2);
    results.add("holder: " + read(holderOut) + " second done while held: " + !second.isAlive());
    holder.destroy();
    assertTrue(holder.waitFor(20, TimeUnit.SECONDS));
    assertTrue(second.waitFor(20, TimeUnit.SECONDS));
    results.add("second: exit " + second.exitValue() + " " + read(secondOut));
    results.add("lock keys left: " + keys(port, out, "L/"));

    // elect: an observer sees the first candidate, then its successor once it resigns
    Path observerOut = out.resolve("observer");
    Process observer = start(port, observerOut, "elect", "-l", "E");
    Path firstOut = out.resolve("first");
    Process first = start(port, firstOut, "elect", "E", "p1");
    awaitOutput(firstOut, "p1");
    awaitOutput(observerOut, "p1");
    Path nextOut = out.resolve("next");
    Process next = start(port, nextOut, "elect", "E", "p2");
    await().atMost(Duration.ofSeconds(10)).until(() -> keys(port, out, "E/") == 2);
    results.add("next leads while first does: " + read(nextOut).contains("p2"));
    first.destroy();
    assertTrue(first.waitFor(20, TimeUnit.SECONDS));
    awaitOutput(nextOut, "p2");
    awaitOutput(observerOut, "p2");
    results.add("first: " + read(firstOut));
    results.add("next: " + read(nextOut));
    results.add("observer: " + read(observerOut));
    for (Process p : List.of(next, observer)) {
      p.destroy();
      p.waitFor(20, TimeUnit.SECONDS);
    }
    return results;
  }

  private static void awaitOutput(Path file, String text) {
    await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(file) && Files.readString(file).contains(text));
  }

  private static String read(Path file) throws Exception {
    return Files.readString(file).replaceAll("/[0-9a-f]{6,16}", "/<lease>");
  }

  private static long keys(int port, Path out, String prefix) {
    try (Transcript t = new Transcript(port)) {
      String end = prefix.substring(0, prefix.length() - 1) + (char) (prefix.charAt(prefix.length() - 1) + 1);
      return t.kv.range(RangeRequest.newBuilder().setKey(bs(prefix)).setRangeEnd(bs(end)).setCountOnly(true)
          .build()).getCount();
    }
  }

  private static Process start(int port, Path output, String... args) throws Exception {
    return EtcdProcess.etcdctl(port, List.of(args)).redirectErrorStream(true).redirectOutput(output.toFile())
        .start();
  }
}
