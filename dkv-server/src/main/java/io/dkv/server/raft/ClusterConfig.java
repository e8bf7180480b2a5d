package io.dkv.server.raft;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a member forms or joins its cluster, with etcd's flags and meanings: {@code --initial-cluster}
 * ({@code name=peerURL,...}), {@code --initial-cluster-state} ({@code new} or {@code existing}),
 * {@code --initial-cluster-token}, {@code --initial-advertise-peer-urls}, {@code --listen-peer-urls},
 * {@code --election-timeout} and {@code --heartbeat-interval}. The initial flags matter only when the data
 * directory is new; afterwards the member's stored ids and the Raft log's configuration rule.
 *
 * @param name this member's name (--name)
 * @param initialCluster every initial member's peer URLs by name, in the order given
 * @param existing whether the member joins a running cluster ({@code existing}) instead of forming one
 * @param token the cluster token, part of every member id
 * @param advertisePeerUrls this member's peer URLs, as the others reach it
 * @param listenPeer where this member listens for its peers ({@code host:port}; port 0 picks one)
 * @param electionTimeout etcd's --election-timeout (default 1000 ms)
 * @param heartbeatInterval etcd's --heartbeat-interval (default 100 ms)
 * @param snapshotCount etcd's --snapshot-count: applied entries between two snapshots (default 100,000)
 * @param forceNewCluster etcd's --force-new-cluster: a member with data starts as the only member of its cluster
 * @param preVote etcd's --pre-vote (default true, as etcd 3.5's): a follower that stands first asks whether it
 *     could win, without raising the term; a member that comes back from a partition then does not depose the
 *     leader
 */
public record ClusterConfig(String name, Map<String, List<String>> initialCluster, boolean existing, String token,
    List<String> advertisePeerUrls, URI listenPeer, Duration electionTimeout, Duration heartbeatInterval,
    long snapshotCount, boolean forceNewCluster, boolean preVote) {

  /** Etcd's defaults: one member "default" at http://localhost:2380. */
  public static final String DEFAULT_TOKEN = "etcd-cluster";

  public ClusterConfig {
    Objects.requireNonNull(name);
    initialCluster = Map.copyOf(initialCluster);
    advertisePeerUrls = List.copyOf(advertisePeerUrls);
  }

  /**
   * Parses etcd's {@code --initial-cluster} value.
   *
   * @throws IllegalArgumentException naming the bad entry
   */
  public static Map<String, List<String>> parseInitialCluster(String value) {
    Map<String, List<String>> members = new LinkedHashMap<>();
    for (String entry : value.split(",")) {
      String e = entry.trim();
      int eq = e.indexOf('=');
      if (eq <= 0 || eq == e.length() - 1) {
        throw new IllegalArgumentException("invalid --initial-cluster entry '" + e + "': expected name=peerURL");
      }
      String url = e.substring(eq + 1);
      checkPeerUrl(url, "--initial-cluster");
      members.computeIfAbsent(e.substring(0, eq), k -> new ArrayList<>()).add(url);
    }
    return members;
  }

  /** Checks that {@code url} is {@code http://host:port} (TLS on the peer links is not supported yet). */
  public static URI checkPeerUrl(String url, String flag) {
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid URL '" + url + "' in " + flag, e);
    }
    if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0
        || (u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/"))) {
      throw new IllegalArgumentException("invalid URL '" + url + "' in " + flag
          + ": expected http://host:port (TLS on peer links is not supported yet)");
    }
    return u;
  }

  /**
   * Checks the flags together, as etcd does at start.
   *
   * @throws IllegalArgumentException with etcd's reason
   */
  public ClusterConfig validate() {
    if (snapshotCount <= 0) {
      throw new IllegalArgumentException("--snapshot-count must be positive");
    }
    if (heartbeatInterval.toMillis() <= 0) {
      throw new IllegalArgumentException("--heartbeat-interval must be positive");
    }
    if (electionTimeout.toMillis() < 5 * heartbeatInterval.toMillis()) {
      throw new IllegalArgumentException("--election-timeout[" + electionTimeout.toMillis()
          + "ms] should be at least as 5 times as --heartbeat-interval[" + heartbeatInterval.toMillis() + "ms]");
    }
    if (electionTimeout.toMillis() > 50_000) {
      throw new IllegalArgumentException("--election-timeout[" + electionTimeout.toMillis()
          + "ms] is too long, and should be set less than 50 seconds");
    }
    List<String> mine = initialCluster.get(name);
    if (mine == null) {
      throw new IllegalArgumentException("couldn't find local name \"" + name
          + "\" in the initial cluster configuration");
    }
    if (!new java.util.HashSet<>(mine).equals(new java.util.HashSet<>(advertisePeerUrls))) {
      throw new IllegalArgumentException("--initial-cluster has " + name + "=" + String.join(",", mine)
          + " but missing from --initial-advertise-peer-urls=" + String.join(",", advertisePeerUrls));
    }
    Map<String, String> seen = new java.util.HashMap<>();
    initialCluster.forEach((n, urls) -> urls.forEach(u -> {
      String other = seen.put(u, n);
      if (other != null && !other.equals(n)) {
        throw new IllegalArgumentException("--initial-cluster gives peer URL " + u + " to both " + other
            + " and " + n);
      }
    }));
    return this;
  }

  /** The id of member {@code memberName}, as etcd computes it for an initial member. */
  long memberId(String memberName) {
    return MemberIds.memberId(initialCluster.get(memberName), token);
  }

  /** The cluster id of the initial members. */
  long clusterId() {
    return MemberIds.clusterId(initialCluster.keySet().stream().map(this::memberId).toList());
  }
}
