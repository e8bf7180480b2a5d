package io.dkv.server.testing;

import io.dkv.testing.EtcdProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.server.DkvServer;
import java.nio.file.Path;
import java.util.List;
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

  /** A scenario against one server, given its port; returns what it observed, a line each. */
  @FunctionalInterface
  public interface Scenario {
    List<String> run(int port) throws Exception;
  }

  /**
   * Runs {@code scenario} against a fresh real etcd, then against a fresh dkv-server, one at a time, and
   * asserts they observed the same.
   */
  public static void assertSameOnBoth(Path dkvDataDir, Scenario scenario) throws Exception {
    List<String> expected;
    try (EtcdProcess etcd = EtcdProcess.start()) {
      expected = scenario.run(etcd.port());
    }
    try (DkvServer dkv = DkvServer.builder().dataDir(dkvDataDir).port(0).start()) {
      assertEquals(String.join("\n", expected), String.join("\n", scenario.run(dkv.port())));
    }
  }

  /**
   * {@link #assertSameOnBoth(Path, Scenario)} for a single target; for a cluster target, runs {@code scenario}
   * against the etcd member and then the DKV member {@code target} names, both prepared to look fresh.
   */
  public static void assertSameOnBoth(Target target, Path dkvDataDir, Scenario scenario) throws Exception {
    if (!target.isCluster()) {
      assertSameOnBoth(dkvDataDir, scenario);
      return;
    }
    try (ServerPair pair = ServerPair.open(target, dkvDataDir)) {
      List<String> expected = scenario.run(pair.etcdPort);
      assertEquals(String.join("\n", expected), String.join("\n", scenario.run(pair.dkvPort)));
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
