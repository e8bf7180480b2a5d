package io.dkv.informer;

import io.dkv.server.DkvServer;
import java.nio.file.Path;

/** The informer contract against an in-process dkv-server. */
class DkvInformerTest extends InformerContract {
  private DkvServer server;

  @Override
  int startServer(Path dir) throws Exception {
    server = DkvServer.builder().dataDir(dir).port(0).start();
    return server.port();
  }

  @Override
  void stopServer() {
    if (server != null) {
      server.close();
    }
  }
}
