package io.dkv.resources;

import io.dkv.server.testing.EtcdProcess;
import java.nio.file.Path;

/** The ResourceClient contract against a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdResourcesTest extends ResourcesContract {
  private EtcdProcess etcd;

  @Override
  String startServer(Path dir) {
    try {
      etcd = EtcdProcess.start();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return etcd.endpoint();
  }

  @Override
  void stopServer() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Override
  int writers() {
    return 8;
  }

  @Override
  int incrementsPerWriter() {
    return 25;
  }
}
