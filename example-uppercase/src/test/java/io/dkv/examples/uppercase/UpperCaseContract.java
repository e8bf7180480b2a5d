package io.dkv.examples.uppercase;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.client.Codec;
import io.dkv.controller.Manager;
import io.dkv.testing.ServerTestBase;
import io.dkv.testing.TestServer;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link UpperCase} on a real server: outputs follow creates, updates and deletes of inputs, a change made to an
 * output by hand is repaired, a stray output goes. Runs on dkv-server and on a real etcd
 * ({@link DkvUpperCaseTest}, {@link EtcdUpperCaseTest}).
 */
abstract class UpperCaseContract extends ServerTestBase {

  UpperCaseContract(TestServer server) {
    super(server);
  }

  private Map<String, String> outputs() {
    Map<String, String> out = new TreeMap<>();
    client.list("out/", Codec.string()).forEach(v -> out.put(v.key(), v.value()));
    return out;
  }

  @Test
  void outFollowsInAndRepairsAChangeByHand() {
    client.put("in/before", "there before the start");
    try (Manager manager = UpperCase.start(client)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> outputs().equals(Map.of("out/before",
          "THERE BEFORE THE START")));

      client.put("in/x", "hello");                                          // create
      await().atMost(Duration.ofSeconds(30)).until(() -> "HELLO".equals(outputs().get("out/x")));

      client.put("in/x", "hello, world");                                   // update
      await().atMost(Duration.ofSeconds(30)).until(() -> "HELLO, WORLD".equals(outputs().get("out/x")));

      client.put("out/x", "changed by hand");                              // repaired
      await().atMost(Duration.ofSeconds(30)).until(() -> "HELLO, WORLD".equals(outputs().get("out/x")));

      client.put("out/stray", "no input");                                 // an output without input goes
      client.delete("in/x");                                               // delete
      await().atMost(Duration.ofSeconds(30)).until(() -> outputs().equals(Map.of("out/before",
          "THERE BEFORE THE START")));
      assertEquals(Map.of("out/before", "THERE BEFORE THE START"), outputs());
    }
  }
}
