package io.dkv.testing;

import java.io.IOException;
import java.util.List;

/**
 * What a failover test needs of a cluster, and nothing of how it runs: the members' client endpoints and faults
 * per member. A test written against it runs unchanged on any cluster that speaks etcd's API; today
 * {@link #etcd(int)} (a real etcd cluster, {@link EtcdCluster}), later a DKV cluster.
 */
public interface FailoverCluster extends AutoCloseable {

  /** A real etcd cluster of {@code n} members (the calling test is skipped without the binary, see {@link EtcdCluster}). */
  static FailoverCluster etcd(int n) throws IOException {
    EtcdCluster c = EtcdCluster.start(n);
    return new FailoverCluster() {
      @Override
      public List<String> endpoints() {
        return c.endpoints();
      }

      @Override
      public int leader() {
        return c.leader();
      }

      @Override
      public void kill(int i) {
        c.kill(i);
      }

      @Override
      public void restart(int i) throws IOException {
        c.restart(i);
      }

      @Override
      public void pause(int i) {
        c.pause(i);
      }

      @Override
      public void resume(int i) {
        c.resume(i);
      }

      @Override
      public void awaitHealthy() {
        c.awaitHealthy(java.time.Duration.ofSeconds(30));
      }

      @Override
      public String toString() {
        return "etcd cluster " + c.endpoints();
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }

  /** Every member's client URL, in member order. */
  List<String> endpoints();

  /** The index of the member that leads now (waits for one). */
  int leader();

  /** SIGKILL (or the like) of member {@code i}: gone at once, nothing flushed, nothing said. */
  void kill(int i);

  /** Starts member {@code i} again after {@link #kill}, on its data, and waits until it answers. */
  void restart(int i) throws IOException;

  /** Member {@code i} stops answering but keeps its connections open (SIGSTOP). */
  void pause(int i);

  /** Ends {@link #pause}. */
  void resume(int i);

  /** Waits until every running member answers and the cluster has a leader. */
  void awaitHealthy();

  /** Stops every member and removes their data. */
  @Override
  void close();
}
