package io.dkv.resources;

import io.dkv.server.DkvServer;
import java.nio.file.Path;

/** Runs a test class against an in-process dkv-server. */
final class DkvServerFixture {
  private DkvServer server;

  String start(Path dir) throws Exception {
    server = DkvServer.builder().dataDir(dir).port(0).start();
    return server.endpoint();
  }

  void stop() {
    if (server != null) {
      server.close();
    }
  }
}
