package io.dkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedTest {

  @Test
  void embeddedServerKeepsDataAcrossRestarts(@TempDir Path dir) {
    try (DkvClient client = DkvClient.embedded(dir)) {
      client.put("greeting", "hello");
    }
    try (DkvClient client = DkvClient.embedded(dir)) {
      assertEquals("hello", client.get("greeting").orElseThrow().value());
    }
  }

  @Test
  void builderRejectsBadOptions() {
    assertThrows(IllegalArgumentException.class, () -> DkvClient.builder().build());
    assertThrows(IllegalArgumentException.class, () -> DkvClient.builder().requestTimeout(Duration.ZERO));
  }
}
