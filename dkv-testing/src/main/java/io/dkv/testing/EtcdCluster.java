package io.dkv.testing;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.maintenance.StatusResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real etcd cluster of {@code n} members on loopback (free ports, temporary data directories), for tests that
 * compare DKV's cluster behaviour with etcd's and inject faults: {@link #kill} (SIGKILL), {@link #pause} /
 * {@link #resume} (SIGSTOP / SIGCONT), {@link #restart} of one member on its data directory, {@link #restartEmpty}
 * on an empty one, and {@link #partition} / {@link #heal} of its peer links: each member's peer listener sits behind
 * a proxy (the URL it advertises to its peers), which holds the traffic of the links cut. Without the binary,
 * {@link #start} skips the calling test (or fails it under {@code -Detcd.required=true}), as {@link EtcdProcess}
 * does.
 */
public final class EtcdCluster implements FaultyCluster {

  private final Path dir;
  private final int[] clientPorts;
  private final int[] peerPorts;
  private final String initialCluster;
  private final List<String> extraFlags;
  private final Process[] members;
  private final PeerNetwork network;

  private EtcdCluster(Path dir, int n, List<String> extraFlags) throws IOException {
    this.dir = dir;
    this.clientPorts = new int[n];
    this.peerPorts = new int[n];
    for (int i = 0; i < n; i++) {
      clientPorts[i] = Ports.freePort();
      peerPorts[i] = Ports.freePort();
    }
    this.extraFlags = extraFlags;
    this.members = new Process[n];
    this.network = new PeerNetwork(peerPorts);
    List<String> peers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      peers.add(name(i) + "=" + peerUrl(i));
    }
    this.initialCluster = String.join(",", peers);
  }

  /** Starts {@code n} members (3 or 5) and waits until every one answers and the cluster has a leader. */
  public static EtcdCluster start(int n, String... extraFlags) throws IOException {
    EtcdProcess.assumeInstalled();
    for (int attempt = 0; ; attempt++) {
      EtcdCluster c = new EtcdCluster(Files.createTempDirectory("etcd-cluster"), n, List.of(extraFlags));
      try {
        for (int i = 0; i < n; i++) {
          c.launch(i, "new");
        }
        c.awaitHealthy(Duration.ofSeconds(30));
        return c;
      } catch (IOException | RuntimeException e) {
        String logs = c.logs();
        c.close();
        if (attempt >= 2) {
          throw new IOException("etcd cluster did not start: " + e.getMessage() + "\n" + logs, e);
        }
      }
    }
  }

  private static String name(int i) {
    return "m" + i;
  }

  private void launch(int i, String state, String... moreFlags) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(EtcdProcess.binary().toString(),
        "--name", name(i),
        "--data-dir", dir.resolve(name(i)).toString(),
        "--listen-client-urls", endpoint(i),
        "--advertise-client-urls", endpoint(i),
        "--listen-peer-urls", "http://127.0.0.1:" + peerPorts[i],
        "--initial-advertise-peer-urls", peerUrl(i),
        "--initial-cluster", initialCluster,
        "--initial-cluster-state", state,
        "--initial-cluster-token", "etcd-cluster-test",
        "--log-level", "error"));
    cmd.addAll(extraFlags);
    cmd.addAll(List.of(moreFlags));
    members[i] = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name(i) + ".log").toFile())).start();
  }

  /** The peer URL member {@code i} advertises: its proxy's. */
  public String peerUrl(int i) {
    return "http://127.0.0.1:" + network.advertisedPort(i);
  }

  /** How many members the cluster has. */
  @Override
  public int size() {
    return members.length;
  }

  /** Member {@code i}'s client URL, {@code http://127.0.0.1:port}. */
  @Override
  public String endpoint(int i) {
    return "http://127.0.0.1:" + clientPorts[i];
  }

  /** Every member's client URL, in member order. */
  @Override
  public List<String> endpoints() {
    return IntStream.range(0, size()).mapToObj(this::endpoint).toList();
  }

  /** Member {@code i}'s client port. */
  public int port(int i) {
    return clientPorts[i];
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

  /** SIGKILL of member {@code i}: nothing flushed, nothing said to its peers. */
  @Override
  public void kill(int i) {
    members[i].destroyForcibly();
    try {
      members[i].waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGSTOP of member {@code i}: it stops answering, as a hung or swapped-out process does. */
  @Override
  public void pause(int i) {
    signal(i, "STOP");
  }

  /** SIGCONT of member {@code i} after {@link #pause}. */
  @Override
  public void resume(int i) {
    signal(i, "CONT");
  }

  private void signal(int i, String signal) {
    Signals.send(pid(i), signal);
  }

  /** Starts member {@code i} again on its data directory (after {@link #kill}) and waits until it answers. */
  @Override
  public void restart(int i) throws IOException {
    if (isAlive(i)) {
      throw new IllegalStateException("member " + name(i) + " still runs");
    }
    launchAndAwait(i);
  }

  /** Member {@code i}'s data directory. */
  @Override
  public Path dataDir(int i) {
    return dir.resolve(name(i));
  }

  /** Starts member {@code i} again on its data directory with {@code moreFlags} too, and waits until it answers. */
  @Override
  public void restart(int i, String... moreFlags) throws IOException {
    if (isAlive(i)) {
      throw new IllegalStateException("member " + name(i) + " still runs");
    }
    launchAndAwait(i, moreFlags);
  }

  private void launchAndAwait(int i, String... moreFlags) throws IOException {
    launch(i, "existing", moreFlags);
    try {
      Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> !members[i].isAlive() || EtcdProcess.health(endpoint(i)));
    } catch (ConditionTimeoutException e) {
      throw new IOException("member " + name(i) + " did not answer after its restart:\n" + logs());
    }
    if (!members[i].isAlive()) {
      throw new IOException("member " + name(i) + " exited after its restart:\n" + logs());
    }
  }

  /** Waits until every running member answers /health (which needs a leader). */
  @Override
  public void awaitHealthy(Duration timeout) {
    Awaitility.await().atMost(timeout).pollInterval(Duration.ofMillis(100)).until(() -> {
      for (int i = 0; i < size(); i++) {
        if (members[i] != null && !members[i].isAlive()) {
          throw new IllegalStateException("member " + name(i) + " exited");
        }
      }
      return IntStream.range(0, size()).filter(this::isAlive).allMatch(i -> EtcdProcess.health(endpoint(i)));
    });
  }

  /** The index of the member that is leader now, as the running members report it; waits up to 30 s for one. */
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

  /**
   * Cuts member {@code i} off from every other member (see {@link FaultyCluster#partition}): the links between it
   * and each other member, whichever side dialed, hold their traffic until {@link #heal}.
   */
  @Override
  public void partition(int i) {
    learnMemberIds();
    network.isolate(Set.of(i));
  }

  /** Ends the partition: the held traffic flows again. */
  @Override
  public void heal() {
    network.heal();
  }

  /** Reads the member ids from a running member, so the proxies can tell who dialed each peer connection. */
  private void learnMemberIds() {
    Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> {
          for (Member m : memberList()) {
            for (int i = 0; i < size(); i++) {
              if (m.getPeerURIs().contains(URI.create(peerUrl(i)))) {
                network.learn(m.getId(), i);
              }
            }
          }
          return true;
        });
  }

  private List<Member> memberList() throws Exception {
    for (int i = 0; i < size(); i++) {
      if (!isAlive(i)) {
        continue;
      }
      try (Client client = Client.builder().endpoints(endpoint(i)).build()) {
        return client.getClusterClient().listMember().get(3, TimeUnit.SECONDS).getMembers();
      } catch (Exception notThisOne) {
        // ask the next
      }
    }
    throw new IllegalStateException("no member answers a member list");
  }

  private Optional<Member> memberAt(int i) throws Exception {
    URI url = URI.create(peerUrl(i));
    return memberList().stream().filter(m -> m.getPeerURIs().contains(url)).findFirst();
  }

  /**
   * Replaces member {@code i} by a new member on an empty data directory, as etcd's documentation replaces a failed
   * member: kills it if it runs, removes it from the cluster, adds a member at the same peer URL, starts it there
   * with {@code --initial-cluster-state existing} on an empty directory, and waits until it answers.
   */
  @Override
  public void restartEmpty(int i) throws IOException {
    if (isAlive(i)) {
      resume(i);
      kill(i);
    }
    URI url = URI.create(peerUrl(i));
    try {
      Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
          .until(() -> {
            Optional<Member> old = memberAt(i);
            if (old.isPresent() && !old.get().getName().isEmpty()) {
              try (Client c = Client.builder().endpoints(endpoint(otherAlive(i))).build()) {
                c.getClusterClient().removeMember(old.get().getId()).get(5, TimeUnit.SECONDS);
              }
              old = memberAt(i);
            }
            if (old.isEmpty()) {
              try (Client c = Client.builder().endpoints(endpoint(otherAlive(i))).build()) {
                c.getClusterClient().addMember(List.of(url)).get(5, TimeUnit.SECONDS);
              }
            }
            return memberAt(i).map(m -> m.getName().isEmpty()).orElse(false);
          });
    } catch (ConditionTimeoutException e) {
      throw new IOException("could not replace member " + name(i) + " in the cluster:\n" + logs(), e);
    }
    EtcdProcess.deleteTree(dir.resolve(name(i)));
    launchAndAwait(i);
    learnMemberIds();
  }

  private int otherAlive(int i) {
    return IntStream.range(0, size()).filter(j -> j != i && isAlive(j)).findFirst()
        .orElseThrow(() -> new IllegalStateException("no other member runs"));
  }

  /** Heals, resumes paused members, stops every member and removes the data directories. */
  @Override
  public void close() {
    network.close();
    for (int i = 0; i < size(); i++) {
      if (isAlive(i)) {
        signal(i, "CONT");
        kill(i);
      }
    }
    EtcdProcess.deleteTree(dir);
  }
}
