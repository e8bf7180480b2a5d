package io.dkv.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.testing.DkvCluster;
import io.dkv.testing.EtcdCluster;
import io.dkv.testing.EtcdProcess;
import io.dkv.testing.FaultyCluster;
import io.dkv.testing.Ports;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.cluster.Member;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Etcdctl's {@code member add/list/remove/promote/update} and {@code move-leader}, their answers and errors, on a
 * 3-member etcd and a 3-member DKV: the same output after normalizing ids, URLs, endpoints and the order of
 * members (etcd lists them by id, and ids differ between the clusters).
 */
class MemberEtcdctlCompatTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One step: etcdctl's arguments from what earlier steps learned (the ids added), and whether it prints json. */
  private record Step(Function<Map<String, String>, List<String>> args, boolean json) {}

  private final List<Step> steps = new ArrayList<>();
  private final List<String> unused = new ArrayList<>();

  private void step(String... args) {
    steps.add(new Step(ids -> Arrays.stream(args).map(a -> substitute(a, ids)).toList(), false));
  }

  private void json(String... args) {
    steps.add(new Step(ids -> Arrays.stream(args).map(a -> substitute(a, ids)).toList(), true));
  }

  /** NEW1, ID0, FOLLOWER, U1 ... in arguments: what they stand for on this cluster. */
  private String substitute(String arg, Map<String, String> ids) {
    String out = arg;
    for (Map.Entry<String, String> e : ids.entrySet()) {
      out = out.replace("<" + e.getKey() + ">", e.getValue());
    }
    for (int i = 0; i < unused.size(); i++) {
      out = out.replace("<U" + (i + 1) + ">", unused.get(i));
    }
    return out;
  }

  @Test
  void memberCommandsAndMoveLeaderPrintTheSameForDkvAndEtcd() throws Exception {
    EtcdProcess.assumeInstalled();
    for (int i = 0; i < 5; i++) {
      unused.add("http://127.0.0.1:" + Ports.freePort()); // peer URLs nobody listens on
    }
    step("member", "list");
    step("member", "add", "x", "--peer-urls=<U1>", "--learner");
    step("member", "list");
    json("member", "list");
    step("member", "add", "y", "--peer-urls=<U2>", "--learner");        // one learner at most
    step("member", "add", "z", "--peer-urls=<PEER_F1>");               // a member's peer URL
    step("member", "promote", "<F1>");                                 // a voter
    step("member", "promote", "<NEW1>");                               // a learner not started: not in sync
    step("member", "remove", "1234");
    step("member", "update", "1234", "--peer-urls=<U3>");
    step("member", "promote", "1234");
    step("member", "remove", "<NEW1>");
    step("member", "add", "v", "--peer-urls=<U4>");                    // a voter, unstarted
    step("member", "update", "<NEW2>", "--peer-urls=<PEER_F1>");
    step("member", "update", "<NEW2>", "--peer-urls=<U3>");
    step("member", "list");
    step("member", "add", "w", "--peer-urls=<U5>");                    // a voter is down: unhealthy
    step("member", "remove", "<NEW2>");
    step("move-leader", "<F1>");
    step("move-leader", "1234");
    step("--endpoints=<F2_ENDPOINT>", "move-leader", "<LEAD>");       // etcdctl itself looks for the leader
    step("move-leader", "<F1>");                                       // the leader already
    step("move-leader", "<LEAD>");
    step("member", "list");

    List<String> etcd;
    try (EtcdCluster c = EtcdCluster.start(3)) {
      etcd = run(c, c::peerUrl);
    }
    List<String> dkv;
    try (DkvCluster c = DkvCluster.start(3)) {
      dkv = run(c, c::peerUrl);
    }
    if (Boolean.getBoolean("etcdctl.print")) {
      System.out.println(String.join("\n", etcd));
    }
    assertEquals(String.join("\n", etcd), String.join("\n", dkv));
  }

  private List<String> run(FaultyCluster c, Function<Integer, String> peerUrl) throws Exception {
    awaitReconfigurable(c);
    Map<String, String> ids = new HashMap<>();
    Map<String, String> norm = new HashMap<>(); // actual text -> placeholder
    List<Member> members;
    try (Client client = Client.builder().endpoints(c.endpoint(0)).build()) {
      members = client.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers();
    }
    // members are named by their role at the start (leader, follower 1 and 2): the leader differs by cluster
    int leader = c.leader();
    for (int i = 0; i < c.size(); i++) {
      String role = i == leader ? "LEAD" : (i == (leader + 1) % c.size() ? "F1" : "F2");
      String url = peerUrl.apply(i);
      Member m = members.stream().filter(x -> x.getPeerURIs().contains(URI.create(url))).findFirst().orElseThrow();
      ids.put(role, Long.toHexString(m.getId()));
      idNames(norm, m.getId(), role);
      norm.put(url, "PEER_" + role);
      norm.put(c.endpoint(i), "CLIENT_" + role);
      norm.put(c.endpoint(i).replace("http://", ""), "EP");
      norm.put(m.getName(), "NAME_" + role);
      ids.put("PEER_" + role, url);
      ids.put(role + "_ENDPOINT", c.endpoint(i).replace("http://", ""));
    }
    List<String> endpoints = IntStream.range(0, c.size()).mapToObj(c::endpoint).toList();
    List<String> out = new ArrayList<>();
    int added = 0;
    for (Step s : steps) {
      List<String> args = s.args().apply(ids);
      List<String> eps = endpoints;
      if (args.get(0).startsWith("--endpoints=")) {
        eps = List.of(args.get(0).substring("--endpoints=".length()));
        args = args.subList(1, args.size());
      }
      List<String> full = new ArrayList<>(args);
      if (s.json()) {
        full.addAll(List.of("-w", "json"));
      }
      Etcdctl.Result r = Etcdctl.run(eps, full);
      Matcher m = Pattern.compile("Member +([0-9a-f]+) added to cluster +([0-9a-f]+)").matcher(r.out());
      if (m.find()) {
        added++;
        ids.put("NEW" + added, m.group(1));
        idNames(norm, Long.parseUnsignedLong(m.group(1), 16), "NEW" + added);
        norm.put(m.group(2), "CLUSTER");
      }
      out.add("$ etcdctl " + String.join(" ", s.args().apply(Map.of())) + (s.json() ? " -w json" : ""));
      out.add("exit " + r.exit());
      out.add(normalize(r.out(), norm, s.json()));
      out.add("--- stderr");
      out.add(normalize(r.err(), norm, false));
    }
    return out;
  }

  /** An id as etcdctl prints it: hex in text, decimal (unsigned) in json. */
  private static void idNames(Map<String, String> norm, long id, String name) {
    norm.put(Long.toHexString(id), name);
    norm.put(Long.toUnsignedString(id), name);
  }

  private String normalize(String s, Map<String, String> norm, boolean json) throws Exception {
    s = s.replaceAll("Member +", "Member ").replaceAll("cluster +", "cluster "); // etcdctl pads ids to 16 digits
    for (int i = 0; i < unused.size(); i++) {
      s = s.replace(unused.get(i), "U" + (i + 1));
    }
    List<Map.Entry<String, String>> byLength = new ArrayList<>(norm.entrySet());
    byLength.sort((a, b) -> b.getKey().length() - a.getKey().length());
    for (Map.Entry<String, String> e : byLength) {
      boolean decimal = e.getKey().chars().allMatch(Character::isDigit);
      s = s.replaceAll("\\b" + Pattern.quote(e.getKey()) + "\\b",
          json && decimal ? "\"" + e.getValue() + "\"" : e.getValue());
    }
    s = s.replaceAll("\"ts\":\"[^\"]*\"", "\"ts\":\"T\"")
        .replaceAll("endpoint://client-[0-9a-f-]+/", "endpoint://client-ID/")
        .replaceAll("cluster [0-9a-f]+", "cluster CLUSTER");
    if (json && s.startsWith("{")) {
      JsonNode n = JSON.readTree(s);
      ((ObjectNode) n.get("header")).removeAll();
      List<String> ms = new ArrayList<>();
      n.get("members").forEach(x -> ms.add(x.toString()));
      ms.sort(null);
      ArrayNode sorted = JSON.createArrayNode();
      for (String x : ms) {
        sorted.add(JSON.readTree(x));
      }
      ((ObjectNode) n).set("members", sorted);
      return n.toString();
    }
    // member lines and ETCD_INITIAL_CLUSTER entries come in id order, and ids differ between clusters
    List<String> lines = new ArrayList<>(Arrays.asList(s.split("\n", -1)));
    String memberLine = "^(LEAD|F1|F2|NEW\\d+), .*";
    List<String> memberLines = lines.stream().filter(l -> l.matches(memberLine)).sorted().toList();
    List<String> rest = new ArrayList<>(lines.stream().filter(l -> !l.matches(memberLine)).toList());
    rest.replaceAll(l -> {
      Matcher m = Pattern.compile("^ETCD_INITIAL_CLUSTER=\"([^\"]*)\"$").matcher(l);
      if (!m.find()) {
        return l;
      }
      List<String> entries = new ArrayList<>(Arrays.asList(m.group(1).split(",")));
      entries.sort(null);
      return "ETCD_INITIAL_CLUSTER=\"" + String.join(",", entries) + "\"";
    });
    List<String> all = new ArrayList<>(memberLines);
    all.addAll(rest);
    return String.join("\n", all);
  }

  /** Etcd takes no membership change until its members have been connected for 5 s (its health interval). */
  private static void awaitReconfigurable(FaultyCluster c) throws java.io.IOException {
    String probe = "http://127.0.0.1:" + Ports.freePort();
    Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
        .until(() -> {
          try (Client client = Client.builder().endpoints(c.endpoint(0)).build()) {
            for (int i = 0; i < c.size(); i++) {
              try (Client on = Client.builder().endpoints(c.endpoint(i)).build()) {
                if (on.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers().stream()
                    .anyMatch(m -> m.getName().isEmpty())) {
                  return false; // etcd's quorum rules count the started members (that published their name)
                }
              }
            }
            long id = client.getClusterClient().addMember(List.of(URI.create(probe)), true)
                .get(10, TimeUnit.SECONDS).getMember().getId();
            client.getClusterClient().removeMember(id).get(10, TimeUnit.SECONDS);
            return true;
          }
        });
    // and every member has applied the probe's removal (a member's list is its own, as etcd's)
    Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> {
          for (int i = 0; i < c.size(); i++) {
            try (Client on = Client.builder().endpoints(c.endpoint(i)).build()) {
              if (on.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers().size() != c.size()) {
                return false;
              }
            }
          }
          return true;
        });
  }
}
