package io.dkv.client;

import io.dkv.server.testing.EtcdProcess;
import java.nio.file.Path;

/** The primitives against a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdPrimitivesTest extends PrimitivesContract {
  private EtcdProcess etcd;

  @Override
  String startServer(Path dir) throws Exception {
    etcd = EtcdProcess.start();
    return etcd.endpoint();
  }

  @Override
  void stopServer() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Override
  int counterThreads() {
    return 16;
  }

  @Override
  int incrementsPerThread() {
    return 100; // etcd fsyncs every write: the full 16 x 1,000 runs against dkv-server
  }
}
