package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.server.testing.ServerPair;
import io.dkv.server.testing.Target;
import io.dkv.testing.EtcdProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code etcdctl lease grant|keep-alive|timetolive|list|revoke} print the same against dkv-server as against
 * etcd (server-chosen lease ids replaced by a placeholder).
 */
class EtcdctlLeaseTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(Target.class)
  void etcdctlLeaseCommandsPrintTheSame(Target target) throws Exception {
    EtcdProcess.assumeInstalled();
    try (ServerPair pair = ServerPair.open(target, dir.resolve("dkv"))) {
      List<String> expected = run(pair.etcdPort, dir.resolve("etcd"));
      assertEquals("exit 0: lease <id> keepalived with TTL(100)\n", expected.get(3));
      assertEquals("exit 0: found 1 leases\n<id>\n", expected.get(4));
      assertEquals(expected, run(pair.dkvPort, dir.resolve("dkv-out")));
    }
  }

  private static List<String> run(int port, Path out) throws Exception {
    Files.createDirectories(out);
    List<String> lines = new ArrayList<>();
    String granted = ctl(port, out, "lease", "grant", "100");
    Matcher m = Pattern.compile("lease ([0-9a-f]+) granted").matcher(granted);
    if (!m.find()) {
      throw new AssertionError("unexpected grant output: " + granted);
    }
    String id = m.group(1);
    lines.add(granted);
    lines.add(ctl(port, out, "put", "--lease=" + id, "k1", "v"));
    lines.add(ctl(port, out, "lease", "timetolive", id, "--keys"));
    lines.add(ctl(port, out, "lease", "keep-alive", "--once", id));
    lines.add(ctl(port, out, "lease", "list"));
    lines.add(ctl(port, out, "lease", "revoke", id));
    lines.add(ctl(port, out, "lease", "timetolive", id));
    lines.add(ctl(port, out, "get", "k1"));
    lines.add(ctl(port, out, "lease", "list"));
    return lines.stream().map(l -> l.replace(id, "<id>")).toList();
  }

  private static String ctl(int port, Path out, String... args) throws Exception {
    Path file = Files.createTempFile(out, "ctl", ".out");
    Process p = EtcdProcess.etcdctl(port, List.of(args)).redirectErrorStream(true).redirectOutput(file.toFile())
        .start();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("etcdctl " + String.join(" ", args) + " hung: " + Files.readString(file));
    }
    return "exit " + p.exitValue() + ": " + Files.readString(file);
  }
}
