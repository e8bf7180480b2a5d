package io.dkv.resources;

import java.nio.file.Path;

/** The ResourceClient contract against an in-process dkv-server. */
class DkvResourcesTest extends ResourcesContract {
  private final DkvServerFixture server = new DkvServerFixture();

  @Override
  String startServer(Path dir) throws Exception {
    return server.start(dir);
  }

  @Override
  void stopServer() {
    server.stop();
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
