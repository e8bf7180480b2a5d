package io.dkv.controller;

import io.dkv.server.DkvServer;
import java.nio.file.Path;

/** Controllers over DKV informers on an in-process dkv-server. */
class DkvControllerE2ETest extends ControllerE2EContract {
  private DkvServer server;

  @Override
  String startServer(Path dir) throws Exception {
    server = DkvServer.builder().dataDir(dir).port(0).start();
    return server.endpoint();
  }

  @Override
  void stopServer() {
    if (server != null) {
      server.close();
    }
  }
}
