package io.dkv.controller;

import io.dkv.server.testing.EtcdProcess;
import java.nio.file.Path;

/** Controllers over DKV informers on a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdControllerE2ETest extends ControllerE2EContract {
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
}
