package io.dkv.server.testing;

import io.dkv.server.DkvServer;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** A fresh real etcd and a fresh dkv-server, side by side, for a compatibility scenario. */
public final class CompatServers implements AutoCloseable {

  public final EtcdProcess etcd;
  public final DkvServer dkv;

  private CompatServers(EtcdProcess etcd, DkvServer dkv) {
    this.etcd = etcd;
    this.dkv = dkv;
  }

  /** Starts both; {@code etcdFlags} and {@code dkvOptions} configure them alike (e.g. a request limit). */
  public static CompatServers start(Path dkvDataDir, UnaryOperator<DkvServer.Builder> dkvOptions,
      String... etcdFlags) throws Exception {
    EtcdProcess etcd = EtcdProcess.start(etcdFlags);
    try {
      return new CompatServers(etcd, dkvOptions.apply(DkvServer.builder().dataDir(dkvDataDir).port(0)).start());
    } catch (Exception | Error e) {
      etcd.close();
      throw e;
    }
  }

  public static CompatServers start(Path dkvDataDir) throws Exception {
    return start(dkvDataDir, b -> b);
  }

  @Override
  public void close() {
    try {
      dkv.close();
    } finally {
      etcd.close();
    }
  }
}
