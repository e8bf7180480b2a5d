package io.dkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dkv.server.DkvServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedTest {

  @Test
  void embeddedServerKeepsDataAcrossRestarts(@TempDir Path dir) throws Exception {
    try (DkvServer server = DkvServer.builder().dataDir(dir).port(0).start();
        DkvClient client = DkvClient.connect(server.endpoint())) {
      client.put("greeting", "hello");
    }
    try (DkvServer server = DkvServer.builder().dataDir(dir).port(0).start();
        DkvClient client = DkvClient.connect(server.endpoint())) {
      assertEquals("hello", client.get("greeting").orElseThrow().value());
    }
  }

  @Test
  void builderRejectsBadOptions() {
    assertThrows(IllegalArgumentException.class, () -> DkvClient.builder().build());
    assertThrows(IllegalArgumentException.class, () -> DkvClient.builder().requestTimeout(Duration.ZERO));
  }
}
