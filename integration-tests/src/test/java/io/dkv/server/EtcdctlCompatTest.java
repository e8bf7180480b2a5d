package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.server.testing.CompatServers;
import io.dkv.server.testing.EtcdctlRevisions;
import io.dkv.server.testing.ServerPair;
import io.dkv.server.testing.Target;
import io.dkv.testing.EtcdProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real etcdctl (v3 API) with one sequence of commands against DKV and against a real etcd, and
 * requires the same exit code, stdout and stderr from both, after normalizing only what legitimately differs
 * between two servers: endpoints, cluster and member ids, raft term, member names and URLs, db size and
 * server version, and timings.
 */
class EtcdctlCompatTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Header and status fields that differ between any two clusters. */
  private static final Set<String> CLUSTER_FIELDS = Set.of("cluster_id", "member_id", "raft_term", "raftTerm",
      "leader", "dbSize", "dbSizeInUse", "version", "ID", "name", "peerURLs", "clientURLs");

  @TempDir
  Path dir;

  private record Result(int exit, String out, String err) {
    Result map(UnaryOperator<String> f) {
      return new Result(exit, f.apply(out), f.apply(err));
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** What a normalizer remembers about one server across steps. */
  private static final class Server {
    final int port;
    long raftIndexBase = -1;

    Server(int port) {
      this.port = port;
    }
  }

  private interface Norm {
    String apply(Server server, String output);
  }

  /** One etcdctl command, its stdin (or null), and how to normalize its output beyond the endpoint. */
  private record Step(List<String> args, String stdin, Norm norm) {}

  private final List<Step> steps = new ArrayList<>();

  private void step(String... args) {
    steps.add(new Step(List.of(args), null, (server, out) -> out));
  }

  private void json(String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    a.add("-w");
    a.add("json");
    steps.add(new Step(a, null, (server, out) -> normalizeJson(out)));
  }

  private void txn(String stdin, String... args) {
    boolean json = List.of(args).contains("json");
    steps.add(new Step(List.of(args), stdin, (server, out) -> json ? normalizeJson(out) : out));
  }

  private void step(Norm norm, String... args) {
    steps.add(new Step(List.of(args), null, norm));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void etcdctlPrintsTheSameForDkvAndEtcd(Target target) throws Exception {
    EtcdProcess.assumeInstalled();
    Path etcdctl = EtcdProcess.etcdctl();
    assertTrue(etcdctl != null, "etcdctl is not installed next to etcd");

    // revision 1 on both: an empty keyspace; raft indexes are compared from here on
    step(EtcdctlCompatTest::normalizeStatus, "endpoint", "status");
    step("put", "foo", "bar");                                   // rev 2
    step("put", "foo", "bar2", "--prev-kv");                     // rev 3
    json("put", "foo", "bar3", "--prev-kv");                     // rev 4
    step("put", "foo", "--ignore-value");                        // rev 5: same value
    step("put", "missing", "--ignore-value");                    // key not found
    step("put", "foo", "v", "--ignore-value");                   // etcdctl refuses a value
    step("put", "foo", "bar5", "--ignore-lease");                // rev 6
    step("put", "missing", "x", "--ignore-lease");               // key not found
    step("put", "foo", "x", "--lease=1234");                     // lease not found
    step("put", "a1", "v1");                                     // rev 7
    step("put", "a2", "v2");                                     // rev 8
    step("put", "a3", "v3");                                     // rev 9
    step("put", "b1", "w1");                                     // rev 10
    step("put", "a2", "v2b");                                    // rev 11
    step("get", "foo");
    step("get", "nothing");
    step("get", "a", "--prefix");
    step("get", "a2", "--from-key");
    step("get", "a1", "a3");
    step("get", "foo", "--rev=2");
    step("get", "a", "--prefix", "--rev=8");
    step("get", "foo", "--rev=99");                              // future revision
    step("get", "a", "--prefix", "--limit=2");
    step("get", "a", "--prefix", "--sort-by=MODIFY", "--order=DESCEND");
    step("get", "a", "--prefix", "--sort-by=VALUE", "--order=ASCEND");
    step("get", "a", "--prefix", "--sort-by=CREATE", "--order=DESCEND", "--limit=2");
    step("get", "a", "--prefix", "--sort-by=VERSION");
    step("get", "a", "--prefix", "--keys-only");
    step("get", "a", "--prefix", "--print-value-only");
    step("get", "a", "--prefix", "--count-only");                // 3.4's etcdctl has no --count-only: same usage error
    step("get", "", "--prefix", "--keys-only");
    json("get", "foo");
    json("get", "a", "--prefix", "--limit=1");
    json("get", "a", "--prefix", "--keys-only");
    step((server, out) -> out.replaceAll("(?m)^\"(ClusterID|MemberID|RaftTerm)\" : \\d+$", "\"$1\" : X"),
        "get", "a", "--prefix", "-w", "fields");
    step("del", "a1", "--prev-kv");                              // rev 12
    step("del", "nothing");                                      // nothing deleted
    json("del", "a", "--prefix", "--prev-kv");                   // rev 13
    step("put", "c1", "z1");                                     // rev 14
    step("put", "c2", "z2");                                     // rev 15
    step("del", "b", "--from-key");                              // rev 16: b1, c1, c2; foo stays
    step("get", "", "--from-key");
    txn("mod(\"foo\") > \"0\"\nvalue(\"foo\") = \"bar5\"\n\nput foo txnval\nget foo\n\nput foo other\n\n",
        "txn");                                                  // rev 17, success
    txn("version(\"foo\") = \"1\"\n\nput foo never\n\nput t1 failed\nget foo\ndel nothing\n\n",
        "txn");                                                  // rev 18, failure branch
    txn("create(\"nokey\") = \"0\"\n\nget t1\n\n\n", "txn", "--interactive");
    txn("value(\"foo\") = \"txnval\"\n\nput foo x\nput foo y\n\n\n", "txn");     // duplicate key
    txn("\nput k1 v1\n\n\n", "txn", "-w", "json");               // rev 19
    txn("mod(\"k1\") < \"19\"\n\n\nget k1\n\n", "txn", "-w", "json");
    step("compaction", "3");
    step("get", "foo", "--rev=2");                               // compacted
    step("get", "foo", "--rev=3");
    step("compaction", "3");                                     // compacted already
    step("compaction", "99");                                    // future
    step("compaction", "6", "--physical");
    step("get", "foo", "--rev=5");
    step("get", "foo", "--rev=6");
    step(EtcdctlCompatTest::normalizeStatus, "endpoint", "status");
    step((server, out) -> normalizeJson(normalizeStatus(server, out)), "endpoint", "status", "-w", "json");
    step((server, out) -> out.replaceAll("took = [0-9.]+[µnm]?s", "took = T"), "endpoint", "health");
    step((server, out) -> normalizeMembers(out), "member", "list");
    json("member", "list");
    step("endpoint", "hashkv");
    step("endpoint", "hashkv", "--rev=10");
    step("endpoint", "hashkv", "--rev=6");                       // at the compaction: compacted
    step("endpoint", "hashkv", "--rev=99");                      // future
    step("endpoint", "hashkv", "--rev=-1");
    step("endpoint", "hashkv", "--rev=-2");
    json("endpoint", "hashkv");

    try (ServerPair pair = target.isCluster() ? ServerPair.open(target, dir.resolve("dkv")) : ServerPair.of(
        CompatServers.start(dir.resolve("dkv"), b -> b.name("test")))) {
      List<String> diffs = new ArrayList<>();
      Server etcdServer = new Server(pair.etcdPort);
      Server dkvServer = new Server(pair.dkvPort);
      for (Step s : steps) {
        Result e = run(etcdctl, etcdServer, s);
        Result d = run(etcdctl, dkvServer, s);
        if (Boolean.getBoolean("etcdctl.print")) { // -Detcdctl.print=true shows what etcd printed
          System.out.println("etcdctl " + String.join(" ", s.args()) + "\n" + e);
        }
        if (!e.equals(d)) {
          diffs.add("etcdctl " + String.join(" ", s.args()) + "\n[etcd] " + e + "\n[dkv]  " + d);
        }
      }
      assertEquals("", String.join("\n\n", diffs), diffs.size() + " of " + steps.size()
          + " etcdctl commands printed differently for DKV and etcd");
    }
  }

  private Result run(Path etcdctl, Server server, Step step) throws IOException, InterruptedException {
    int port = server.port;
    List<String> args = new ArrayList<>(List.of("--dial-timeout=5s"));
    args.addAll(EtcdctlRevisions.shiftArgs(step.args(), port));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = EtcdProcess.etcdctl(port, args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    try (OutputStream in = p.getOutputStream()) {
      if (step.stdin() != null) {
        in.write(EtcdctlRevisions.shiftStdin(step.stdin(), port).getBytes(StandardCharsets.UTF_8));
      }
    }
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("etcdctl " + step.args() + " did not finish");
    }
    String endpoint = "127.0.0.1:" + port;
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err))
        .map(s -> s.replace(endpoint, "ENDPOINT")
            // the client's retry warning: a time stamp and a random client id
            .replaceAll("\"ts\":\"[^\"]*\"", "\"ts\":\"T\"")
            .replaceAll("endpoint://client-[0-9a-f-]+/", "endpoint://client-ID/"))
        .map(s -> step.norm().apply(server, s));
  }

  /** Json output with the fields that differ between any two clusters removed. */
  private static String normalizeJson(String s) {
    if (s.isBlank()) {
      return s;
    }
    try {
      JsonNode n = JSON.readTree(s);
      strip(n);
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n";
    } catch (IOException e) {
      return s; // not json (an error): compare verbatim
    }
  }

  private static void strip(JsonNode n) {
    if (n instanceof ObjectNode o) {
      o.remove(CLUSTER_FIELDS);
    }
    for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
      strip(it.next());
    }
  }

  /**
   * "ENDPOINT, 8e9e05c52164694d, 3.4.23, 20 kB, true, false, 2, 24, 24, ": member id, version, db size and
   * raft term differ. The raft index and applied index are compared as "equal, and grown since the first status
   * call": etcd's raft log starts with entries of its own (bootstrap, leader election, member attributes, cluster
   * version), and DKV's (Ratis's) also holds an entry carrying the commit index after each commit.
   */
  private static String normalizeStatus(Server server, String s) {
    Matcher m = Pattern.compile(
        "\"raftIndex\" ?: ?(\\d+)|^ENDPOINT, [^,]+, [^,]+, [^,]+, [a-z]+, [a-z]+, \\d+, (\\d+),", Pattern.MULTILINE)
        .matcher(s);
    if (m.find()) {
      long index = Long.parseLong(m.group(1) != null ? m.group(1) : m.group(2));
      if (server.raftIndexBase < 0) {
        server.raftIndexBase = index;
      }
    }
    Matcher idx = Pattern.compile("(\"raft(?:Applied)?Index\" ?: ?)(\\d+)").matcher(s);
    s = idx.replaceAll(r -> r.group(1) + "\"" + grown(Long.parseLong(r.group(2)) - server.raftIndexBase) + "\"");
    Matcher simple = Pattern.compile("(?m)^ENDPOINT, [^,]+, [^,]+, [^,]+, ([a-z]+), ([a-z]+), \\d+, (\\d+), (\\d+), ")
        .matcher(s);
    return simple.replaceAll(r -> "ENDPOINT, ID, VERSION, SIZE, " + r.group(1) + ", " + r.group(2) + ", TERM, "
        + grown(Long.parseLong(r.group(3)) - server.raftIndexBase) + ", "
        + (r.group(3).equals(r.group(4)) ? "APPLIED" : "BEHIND") + ", ");
  }

  private static String grown(long delta) {
    return delta > 0 ? "GROWN" : delta == 0 ? "SAME" : "SHRUNK";
  }

  /** "8e9e05c52164694d, started, test, http://127.0.0.1:1, http://127.0.0.1:2, false": ids and URLs differ. */
  private static String normalizeMembers(String s) {
    return s.replaceAll("(?m)^[0-9a-f]+, (\\w+), [^,]*, [^,]*, [^,]*, ", "ID, $1, NAME, PEERS, CLIENTS, ");
  }
}
