package io.dkv.client;

import io.dkv.server.DkvServer;
import java.nio.file.Path;

/** The primitives against an in-process dkv-server. */
class DkvPrimitivesTest extends PrimitivesContract {
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

  @Override
  int counterThreads() {
    return 16;
  }

  @Override
  int incrementsPerThread() {
    return 1000;
  }
}
