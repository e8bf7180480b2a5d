package io.dkv.testing;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.StatusResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;

/**
 * A DKV cluster of {@code n} members, each a dkv-server in a JVM of its own ({@link DkvProcess}) on loopback
 * (free ports, temporary data directories), formed with etcd's flags; with the faults of {@link FaultyCluster}
 * ({@link #restartEmpty} replaces a member through the membership API, as etcd's documentation does).
 *
 * <p>Partitions: every member advertises its peer URL by name ({@code http://m<j>.dkv:port}), and each member's
 * JVM resolves those names through a hosts file of its own ({@code -Djdk.net.hosts.file}) to an address of the
 * 127/8 loopback net that only it uses for that peer, {@code 127.0.<i+1>.<j+1>}, where a {@link TcpProxy} of
 * the directed link i→j forwards to member j's peer listener. Every link is thus its own proxy, and cutting
 * member i off is blackholing the links from and to it.
 */
public final class DkvCluster implements FaultyCluster {

  /** The members' JVM flags in tests: small and quick to start, on a machine of few cores. */
  public static final List<String> TEST_JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private final Path dir;
  private final int[] clientPorts;
  private final int[] peerPorts;
  private final int[] listenPeerPorts;
  private final TcpProxy[][] links;
  private final String initialCluster;
  private final List<String> extraFlags;
  private final List<String> jvmFlags;
  private final DkvProcess[] members;
  private int used;

  private DkvCluster(Path dir, int initial, int spares, List<String> jvmFlags, List<String> extraFlags)
      throws IOException {
    int n = initial + spares;
    this.dir = dir;
    this.used = initial;
    this.jvmFlags = List.copyOf(jvmFlags);
    this.clientPorts = new int[n];
    this.peerPorts = new int[n];
    this.listenPeerPorts = new int[n];
    this.links = new TcpProxy[n][n];
    List<String> peers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      clientPorts[i] = Ports.freePort();
      peerPorts[i] = Ports.freePort();
      listenPeerPorts[i] = Ports.freePort();
      if (i < initial) {
        peers.add(name(i) + "=" + peerUrl(i));
      }
    }
    for (int i = 0; i < n; i++) {
      StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n127.0.0.1 " + name(i) + ".dkv\n");
      for (int j = 0; j < n; j++) {
        if (i != j) {
          String address = "127.0." + (i + 1) + "." + (j + 1);
          links[i][j] = new TcpProxy(new java.net.InetSocketAddress(address, peerPorts[j]), listenPeerPorts[j]);
          hosts.append(address).append(' ').append(name(j)).append(".dkv\n");
        }
      }
      Files.writeString(hostsFile(i), hosts);
    }
    this.initialCluster = String.join(",", peers);
    this.extraFlags = extraFlags;
    this.members = new DkvProcess[n];
  }

  /** Starts {@code n} members and waits until one of them leads and every one answers. */
  public static DkvCluster start(int n, String... extraFlags) throws IOException {
    return start(n, 0, extraFlags);
  }

  /** Starts {@code n} members whose JVMs run with {@code jvmFlags} (a benchmark's: as in production). */
  public static DkvCluster start(int n, List<String> jvmFlags, String... extraFlags) throws IOException {
    return start(n, 0, jvmFlags, extraFlags);
  }

  /**
   * Starts {@code n} members as {@link #start(int, String...)}, with room for {@code spares} more that
   * {@link #addSlot} and {@link #startJoining} add later (their names resolve and their peer links exist).
   */
  public static DkvCluster start(int n, int spares, String... extraFlags) throws IOException {
    return start(n, spares, TEST_JVM, extraFlags);
  }

  private static DkvCluster start(int n, int spares, List<String> jvmFlags, String... extraFlags)
      throws IOException {
    DkvCluster c = new DkvCluster(Files.createTempDirectory("dkv-cluster"), n, spares, jvmFlags,
        List.of(extraFlags));    try {
      List<Thread> starts = new ArrayList<>();
      IOException[] failure = new IOException[1];
      for (int i = 0; i < n; i++) {
        int m = i;
        Thread t = new Thread(() -> {
          try {
            c.launch(m, "new");
          } catch (IOException e) {
            failure[0] = e;
          }
        });
        t.start();
        starts.add(t);
      }
      for (Thread t : starts) {
        t.join();
      }
      if (failure[0] != null) {
        throw failure[0];
      }
      c.leader();
      c.awaitPublished(n, Duration.ofSeconds(60));
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      c.close();
      throw new IOException(e);
    }
  }

  /** The peer URL member {@code i} advertises. */
  public String peerUrl(int i) {
    return "http://" + name(i) + ".dkv:" + peerPorts[i];
  }

  private Path hostsFile(int i) {
    return dir.resolve(name(i) + ".hosts");
  }

  /** The name of member {@code i}. */
  public String name(int i) {
    return "m" + i;
  }

  /**
   * Takes the next spare slot for a member to add (its peer URL is {@link #peerUrl}); {@link #size} grows by one.
   */
  public int addSlot() {
    if (used == members.length) {
      throw new IllegalStateException("no spare member slot left; start the cluster with more spares");
    }
    return used++;
  }

  /**
   * Starts member {@code i} (added to the cluster by MemberAdd first) with {@code --initial-cluster-state
   * existing} and {@code initialCluster}, as {@code etcdctl member add} prints it, on an empty data directory.
   */
  public void startJoining(int i, String initialCluster) throws IOException {
    launch(i, "existing", initialCluster);
  }

  private void launch(int i, String state) throws IOException {
    launch(i, state, initialCluster);
  }

  private void launch(int i, String state, String cluster, String... moreFlags) throws IOException {
    List<String> flags = new ArrayList<>(List.of("--name", name(i),
        "--listen-peer-urls", "http://127.0.0.1:" + listenPeerPorts[i],
        "--initial-advertise-peer-urls", peerUrl(i),
        "--initial-cluster", cluster,
        "--initial-cluster-state", state,
        "--initial-cluster-token", "dkv-cluster-test"));
    flags.addAll(extraFlags);
    flags.addAll(List.of(moreFlags));
    List<String> jvm = new ArrayList<>(jvmFlags);
    jvm.add("-Djdk.net.hosts.file=" + hostsFile(i));
    members[i] = DkvProcess.start(dir.resolve(name(i)), clientPorts[i], jvm, flags.toArray(String[]::new));
  }

  /** How many members the cluster has. */
  @Override
  public int size() {
    return used;
  }

  /** Member {@code i}'s client URL. */
  @Override
  public String endpoint(int i) {
    return "http://127.0.0.1:" + clientPorts[i];
  }

  /** Member {@code i}'s data directory. */
  @Override
  public Path dataDir(int i) {
    return dir.resolve(name(i));
  }

  @Override
  public long pid(int i) {
    return members[i].pid();
  }

  /** Whether member {@code i}'s process runs. */
  @Override
  public boolean isAlive(int i) {
    return members[i] != null && members[i].isAlive();
  }

  /** SIGKILL of member {@code i}. */
  @Override
  public void kill(int i) {
    members[i].kill();
  }

  /** SIGSTOP of member {@code i}. */
  @Override
  public void pause(int i) {
    Signals.send(pid(i), "STOP");
  }

  /** SIGCONT of member {@code i}. */
  @Override
  public void resume(int i) {
    Signals.send(pid(i), "CONT");
  }

  /** Starts member {@code i} again on its data directory, after {@link #kill}. */
  @Override
  public void restart(int i) throws IOException {
    if (isAlive(i)) {
      throw new IllegalStateException("member " + name(i) + " still runs");
    }
    launch(i, "existing");
  }

  /**
   * Starts member {@code i} again on its data directory, as {@link #restart(int)}, with {@code moreFlags} besides
   * the cluster's for this start only.
   *
   * @throws IOException with the member's log if it exits instead of serving
   */
  @Override
  public void restart(int i, String... moreFlags) throws IOException {
    if (isAlive(i)) {
      throw new IllegalStateException("member " + name(i) + " still runs");
    }
    launch(i, "existing", initialCluster, moreFlags);
  }

  @Override
  public void partition(int i) {
    for (int j = 0; j < size(); j++) {
      if (j != i) {
        links[i][j].blackhole();
        links[j][i].blackhole();
      }
    }
  }

  /** Ends every partition; the links' connections are dropped so that both sides start clean streams. */
  @Override
  public void heal() {
    for (TcpProxy[] from : links) {
      for (TcpProxy link : from) {
        if (link != null) {
          link.heal();
          link.dropConnections();
        }
      }
    }
  }

  /**
   * Replaces member {@code i} by a new member on an empty data directory, as etcd's documentation replaces a failed
   * member: kills it if it runs, removes it (MemberRemove through another member), adds a member at the same peer
   * URL (MemberAdd), empties its data directory and starts it there with {@code --initial-cluster-state existing}
   * and the member list as its {@code --initial-cluster} (what {@code etcdctl member add} prints); returns once it
   * answers. It catches up from the leader (the leader's checkpoint first, if it has one).
   */
  @Override
  public void restartEmpty(int i) throws IOException {
    if (isAlive(i)) {
      resume(i);
      kill(i);
    }
    java.net.URI url = java.net.URI.create(peerUrl(i));
    List<io.etcd.jetcd.cluster.Member> members;
    try {
      members = Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
          .ignoreExceptions().until(() -> {
            try (Client c = Client.builder().endpoints(endpoint(otherAlive(i))).build()) {
              var cluster = c.getClusterClient();
              var old = cluster.listMember().get(5, TimeUnit.SECONDS).getMembers().stream()
                  .filter(m -> m.getPeerURIs().contains(url)).findFirst();
              if (old.isPresent() && !old.get().getName().isEmpty()) {
                cluster.removeMember(old.get().getId()).get(10, TimeUnit.SECONDS);
                old = java.util.Optional.empty();
              }
              if (old.isEmpty()) {
                cluster.addMember(List.of(url)).get(10, TimeUnit.SECONDS);
              }
              return cluster.listMember().get(5, TimeUnit.SECONDS).getMembers();
            }
          }, l -> l.stream().anyMatch(m -> m.getPeerURIs().contains(url) && m.getName().isEmpty()));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new IOException("could not replace member " + name(i) + " in the cluster:\n" + logs(), e);
    }
    StringBuilder initial = new StringBuilder();
    for (io.etcd.jetcd.cluster.Member m : members) {
      for (java.net.URI u : m.getPeerURIs()) {
        initial.append(initial.length() == 0 ? "" : ",")
            .append(u.equals(url) ? name(i) : m.getName()).append('=').append(u);
      }
    }
    EtcdProcess.deleteTree(dataDir(i));
    launch(i, "existing", initial.toString());
  }

  private int otherAlive(int i) {
    return IntStream.range(0, size()).filter(j -> j != i && isAlive(j)).findFirst()
        .orElseThrow(() -> new IllegalStateException("no other member runs"));
  }

  @Override
  public void awaitHealthy(Duration timeout) {
    Awaitility.await().atMost(timeout).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
      for (int i = 0; i < size(); i++) {
        if (members[i] != null && !members[i].isAlive()) {
          throw new IllegalStateException("member " + name(i) + " exited");
        }
      }
      return IntStream.range(0, size()).filter(this::isAlive).allMatch(this::hasLeader);
    });
  }

  /**
   * Waits until each of the first {@code n} members lists {@code n} members, each with its client URLs: every
   * member's publication applied everywhere (a member's list is its own), as a started etcd cluster's.
   */
  private void awaitPublished(int n, Duration timeout) {
    Awaitility.await().atMost(timeout).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() ->
        IntStream.range(0, n).allMatch(i -> {
          try (Client client = Client.builder().endpoints(endpoint(i)).build()) {
            var members = client.getClusterClient().listMember().get(5, TimeUnit.SECONDS).getMembers();
            return members.size() == n && members.stream().noneMatch(m -> m.getClientURIs().isEmpty());
          } catch (Exception e) {
            return false;
          }
        }));
  }

  private boolean hasLeader(int i) {
    try (Client client = Client.builder().endpoints(endpoint(i)).build()) {
      return client.getMaintenanceClient().statusMember(endpoint(i)).get(2, TimeUnit.SECONDS).getLeader() != 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** The index of the member that leads now, as the running members report it; waits up to 30 s for one. */
  @Override
  public int leader() {
    int[] found = {-1};
    Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
      found[0] = findLeader();
      return found[0] >= 0;
    });
    return found[0];
  }

  private int findLeader() {
    for (int i = 0; i < size(); i++) {
      if (!isAlive(i)) {
        continue;
      }
      try (Client client = Client.builder().endpoints(endpoint(i)).build()) {
        StatusResponse s = client.getMaintenanceClient().statusMember(endpoint(i)).get(2, TimeUnit.SECONDS);
        if (s.getLeader() != 0 && s.getLeader() == s.getHeader().getMemberId()) {
          return i;
        }
      } catch (Exception notNow) {
        // this member does not answer; ask the next
      }
    }
    return -1;
  }

  /** Member {@code i}'s log, every start of it one after the other. */
  public String log(int i) throws IOException {
    Path log = dir.resolve(name(i) + ".log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** Every member's log, for a failure message. */
  @Override
  public String logs() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < size(); i++) {
      Path log = dir.resolve(name(i) + ".log");
      try {
        b.append("--- ").append(name(i)).append('\n').append(Files.exists(log) ? Files.readString(log) : "")
            .append('\n');
      } catch (IOException e) {
        b.append("(cannot read ").append(log).append(")\n");
      }
    }
    return b.toString();
  }

  /** Stops every member (resuming paused ones) and removes the data directories. */
  @Override
  public void close() {
    for (TcpProxy[] from : links) {
      for (TcpProxy link : from) {
        if (link != null) {
          link.close();
        }
      }
    }
    for (int i = 0; i < size(); i++) {
      if (isAlive(i)) {
        resume(i);
        kill(i);
      }
    }
    if (Boolean.getBoolean("dkv.cluster.keep")) {
      System.err.println("dkv.cluster.keep: the members' data and logs stay in " + dir);
    } else {
      EtcdProcess.deleteTree(dir);
    }
  }
}
