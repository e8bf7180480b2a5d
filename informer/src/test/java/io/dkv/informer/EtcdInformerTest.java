package io.dkv.informer;

import io.dkv.server.testing.EtcdProcess;
import java.nio.file.Path;

/** The informer contract against a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdInformerTest extends InformerContract {
  private EtcdProcess etcd;

  @Override
  int startServer(Path dir) throws Exception {
    etcd = EtcdProcess.start();
    return etcd.port();
  }

  @Override
  void stopServer() {
    if (etcd != null) {
      etcd.close();
    }
  }
}
