package io.dkv.controller;

import io.dkv.server.DkvServer;
import java.nio.file.Path;

/** Leader election of managers on an in-process dkv-server. */
class DkvLeaderElectionTest extends LeaderElectionContract {
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
