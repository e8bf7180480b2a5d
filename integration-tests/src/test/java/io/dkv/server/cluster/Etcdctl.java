package io.dkv.server.cluster;

import io.dkv.testing.EtcdProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real etcdctl (v3) against a list of endpoints and captures what it printed. */
final class Etcdctl {

  /** An etcdctl run: exit code, stdout, stderr. */
  record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private Etcdctl() {}

  /** {@code etcdctl --endpoints=<endpoints> <args>}, waiting up to 60 s. */
  static Result run(List<String> endpoints, List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(EtcdProcess.etcdctl().toString(),
        "--endpoints=" + String.join(",", endpoints.stream().map(e -> e.replace("http://", "")).toList()),
        "--dial-timeout=5s", "--command-timeout=30s"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    p.getOutputStream().close();
    var out = p.getInputStream().readAllBytes();
    var err = p.getErrorStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("etcdctl " + args + " did not finish");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }
}
