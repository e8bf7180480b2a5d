package io.dkv.informer;

import io.dkv.server.testing.EtcdProcess;
import java.nio.file.Path;

/** {@link WatchedCache} against a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdWatchedCacheTest extends WatchedCacheContract {
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
  int writesPerWriter() {
    return 150; // etcd fsyncs every write
  }
}
