package io.dkv.server.testing;

import io.dkv.server.DkvServer;
import java.nio.file.Path;

/**
 * An etcd and a DKV to compare in one scenario, as {@link Target} says: a fresh single server of each (stopped
 * on {@link #close}), or the same kind of member of each {@link SharedClusters} cluster, prepared to look fresh.
 */
public final class ServerPair implements AutoCloseable {

  public final Target target;
  public final int etcdPort;
  public final int dkvPort;
  /** The single servers, null for a cluster target. */
  public final CompatServers single;

  private ServerPair(Target target, int etcdPort, int dkvPort, CompatServers single) {
    this.target = target;
    this.etcdPort = etcdPort;
    this.dkvPort = dkvPort;
    this.single = single;
  }

  /** Fresh single servers, or members of the shared clusters emptied and aligned for the scenario. */
  public static ServerPair open(Target target, Path dkvDataDir) throws Exception {
    if (!target.isCluster()) {
      CompatServers s = CompatServers.start(dkvDataDir);
      return new ServerPair(target, s.etcd.port(), s.dkv.port(), s);
    }
    SharedClusters c = SharedClusters.get();
    int etcd = SharedClusters.port(c.etcd(), target);
    int dkv = SharedClusters.port(c.dkv(), target);
    SharedClusters.prepare(etcd, dkv);
    return new ServerPair(target, etcd, dkv, null);
  }

  /** The given single servers, stopped on {@link #close}. */
  public static ServerPair of(CompatServers single) {
    return new ServerPair(Target.SINGLE, single.etcd.port(), single.dkv.port(), single);
  }

  /** The member's (or server's) revision offset: what revision 1 of the scenario is, minus 1. */
  public long offset(boolean dkv) {
    return Channels.offset(dkv ? dkvPort : etcdPort);
  }

  @Override
  public void close() {
    if (single != null) {
      single.close();
    } else {
      Channels.clearShift(etcdPort);
      Channels.clearShift(dkvPort);
    }
  }
}
