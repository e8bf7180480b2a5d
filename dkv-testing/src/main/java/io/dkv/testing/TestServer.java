package io.dkv.testing;

import io.dkv.server.DkvServer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The servers a contract test runs on: an in-process dkv-server, or a real etcd (skipped, saying why, without the
 * binary unless {@code -Detcd.required=true}).
 *
 * <pre>{@code
 * try (TestServer.Running server = TestServer.DKV.start(dir);
 *     DkvClient client = DkvClient.connect(server.endpoint())) { ... }
 * }</pre>
 */
public enum TestServer {
  /** An embedded {@link DkvServer} on a free loopback port, its data in the given directory. */
  DKV {
    @Override
    public Running start(Path dir) throws IOException {
      DkvServer server = DkvServer.builder().dataDir(dir).port(0).start();
      return new Running(server.endpoint(), server);
    }
  },
  /** A real etcd via {@link EtcdProcess} (in its own temp dir; the given directory is unused). */
  ETCD {
    @Override
    public Running start(Path dir) throws IOException {
      EtcdProcess etcd = EtcdProcess.start();
      return new Running(etcd.endpoint(), etcd);
    }
  };

  /** Starts this server; the caller closes the result, which stops it. */
  public abstract Running start(Path dir) throws IOException;

  /** A started server: its client endpoint; {@link #close()} stops it. */
  public record Running(String endpoint, AutoCloseable server) implements AutoCloseable {
    @Override
    public void close() {
      try {
        server.close();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("stopping the server at " + endpoint + " failed", e);
      }
    }
  }
}
