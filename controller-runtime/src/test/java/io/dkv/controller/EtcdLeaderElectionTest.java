package io.dkv.controller;

import io.dkv.server.testing.EtcdProcess;
import java.nio.file.Path;

/** Leader election of managers on a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdLeaderElectionTest extends LeaderElectionContract {
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
