package io.dkv.informer;

import io.dkv.server.DkvServer;
import java.nio.file.Path;

/** {@link WatchedCache} against an in-process dkv-server. */
class DkvWatchedCacheTest extends WatchedCacheContract {
  private DkvServer server;

  @Override
  String startServer(Path dir) throws Exception {
    server = DkvServer.builder().dataDir(dir).host("127.0.0.1").port(0).start();
    return server.endpoint();
  }

  @Override
  void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Override
  int writesPerWriter() {
    return 200;
  }
}
