package io.dkv.testing;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A cluster of server processes on this machine that a fault test can break: member {@code i} (0-based) can be
 * killed, paused, cut off from its peers, restarted on its data or on an empty data directory. Implemented by
 * {@link EtcdCluster}, so that a test written against this interface runs against a real etcd as the control and
 * against any other implementation (a DKV cluster) unchanged.
 *
 * <p>Faults act on one member and return at once, except where said; the cluster is left as the fault leaves it
 * until the matching repair ({@link #restart}, {@link #resume}, {@link #heal}). {@link #close} repairs and stops
 * everything.
 */
public interface FaultyCluster extends AutoCloseable {

  /** How many members the cluster has. */
  int size();

  /** Member {@code i}'s client URL, {@code http://127.0.0.1:port}. */
  String endpoint(int i);

  /** Every member's client URL, in member order. */
  default List<String> endpoints() {
    return IntStream.range(0, size()).mapToObj(this::endpoint).toList();
  }

  /** The process id of member {@code i}. */
  long pid(int i);

  /** The index of the member that is leader now; waits up to 30 s for one. */
  int leader();

  /** Whether member {@code i}'s process runs (a paused one does). */
  boolean isAlive(int i);

  /** SIGKILL of member {@code i}: nothing flushed, nothing said to its peers. Returns once it has exited. */
  void kill(int i);

  /** Starts member {@code i} again on its data directory after {@link #kill}; returns once it answers. */
  void restart(int i) throws IOException;

  /** SIGSTOP of member {@code i}: it stops answering anyone, as a hung or swapped-out process does. */
  void pause(int i);

  /** SIGCONT of member {@code i} after {@link #pause}. */
  void resume(int i);

  /**
   * Cuts member {@code i} off from every other member, both ways, as a network partition does: its peer
   * connections stay open but carry nothing (no reset, so each side notices by timing out) and new ones get no
   * further. Its client port still answers, so clients connected to it see a member without a quorum.
   */
  void partition(int i);

  /** Ends every {@link #partition}: peer traffic flows again. */
  void heal();

  /**
   * Replaces member {@code i} by a new member with an empty data directory at the same addresses, as an operator
   * replaces a member whose disk was lost (for etcd: member remove, member add, start with
   * {@code --initial-cluster-state existing}); it catches up from the others. Kills it first if it runs; returns once
   * it answers.
   */
  void restartEmpty(int i) throws IOException;

  /** Waits until every running member answers its health check (which needs a leader). */
  void awaitHealthy(Duration timeout);

  /** Member {@code i}'s data directory. */
  java.nio.file.Path dataDir(int i);

  /**
   * Starts member {@code i} again on its data directory (after {@link #kill}) with {@code moreFlags} besides the
   * cluster's, for this start only (e.g. etcd's {@code --force-new-cluster}).
   */
  void restart(int i, String... moreFlags) throws java.io.IOException;

  /** Every member's log, for a failure message. */
  String logs();

  /** Heals, resumes and stops every member and removes their data. */
  @Override
  void close();
}
