package io.dkv.examples.docs;

import io.dkv.server.DkvServer;
import java.io.IOException;
import java.nio.file.Path;

/** The code of docs/operations.md, compiled here; the docs include the regions (DocsSnippetsTest). */
class OperationsGuide {

  static void embeddedServer() throws IOException {
    // region embedded-server
    DkvServer server = DkvServer.builder()
        .dataDir(Path.of("data"))
        .port(0)                                   // a free port; server.port() tells which
        .autoCompaction(DkvServer.CompactionMode.REVISION, "10000")
        .start();
    String endpoint = server.endpoint();           // http://127.0.0.1:<port>
    server.close();
    // endregion
  }
}
