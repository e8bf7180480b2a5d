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
 * (free ports, temporary data directories), formed with etcd's flags; with the faults {@link EtcdCluster} has:
 * {@link #kill} (SIGKILL), {@link #pause} / {@link #resume} (SIGSTOP / SIGCONT) and {@link #restart}.
 */
public final class DkvCluster implements AutoCloseable {

  private static final List<String> JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private final Path dir;
  private final int[] clientPorts;
  private final int[] peerPorts;
  private final String initialCluster;
  private final List<String> extraFlags;
  private final DkvProcess[] members;

  private DkvCluster(Path dir, int n, List<String> extraFlags) throws IOException {
    this.dir = dir;
    this.clientPorts = new int[n];
    this.peerPorts = new int[n];
    List<String> peers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      clientPorts[i] = Ports.freePort();
      peerPorts[i] = Ports.freePort();
      peers.add(name(i) + "=" + peerUrl(i));
    }
    this.initialCluster = String.join(",", peers);
    this.extraFlags = extraFlags;
    this.members = new DkvProcess[n];
  }

  /** Starts {@code n} members and waits until one of them leads and every one answers. */
  public static DkvCluster start(int n, String... extraFlags) throws IOException {
    DkvCluster c = new DkvCluster(Files.createTempDirectory("dkv-cluster"), n, List.of(extraFlags));
    try {
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

  private static String name(int i) {
    return "m" + i;
  }

  private String peerUrl(int i) {
    return "http://127.0.0.1:" + peerPorts[i];
  }

  private void launch(int i, String state) throws IOException {
    List<String> flags = new ArrayList<>(List.of("--name", name(i),
        "--listen-peer-urls", peerUrl(i),
        "--initial-advertise-peer-urls", peerUrl(i),
        "--initial-cluster", initialCluster,
        "--initial-cluster-state", state,
        "--initial-cluster-token", "dkv-cluster-test"));
    flags.addAll(extraFlags);
    members[i] = DkvProcess.start(dir.resolve(name(i)), clientPorts[i], JVM, flags.toArray(String[]::new));
  }

  /** How many members the cluster has. */
  public int size() {
    return members.length;
  }

  /** Member {@code i}'s client URL. */
  public String endpoint(int i) {
    return "http://127.0.0.1:" + clientPorts[i];
  }

  /** Every member's client URL, in member order. */
  public List<String> endpoints() {
    return IntStream.range(0, size()).mapToObj(this::endpoint).toList();
  }

  /** Member {@code i}'s data directory. */
  public Path dataDir(int i) {
    return dir.resolve(name(i));
  }

  /** The process id of member {@code i}. */
  public long pid(int i) {
    return members[i].pid();
  }

  /** Whether member {@code i}'s process runs. */
  public boolean isAlive(int i) {
    return members[i] != null && members[i].isAlive();
  }

  /** SIGKILL of member {@code i}. */
  public void kill(int i) {
    members[i].kill();
  }

  /** SIGSTOP of member {@code i}. */
  public void pause(int i) {
    Signals.send(pid(i), "STOP");
  }

  /** SIGCONT of member {@code i}. */
  public void resume(int i) {
    Signals.send(pid(i), "CONT");
  }

  /** Starts member {@code i} again on its data directory, after {@link #kill}. */
  public void restart(int i) throws IOException {
    if (isAlive(i)) {
      throw new IllegalStateException("member " + name(i) + " still runs");
    }
    launch(i, "existing");
  }

  /** The index of the member that leads now, as the running members report it; waits up to 30 s for one. */
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
    for (int i = 0; i < size(); i++) {
      if (isAlive(i)) {
        resume(i);
        kill(i);
      }
    }
    EtcdProcess.deleteTree(dir);
  }
}
