package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.testing.ServerTestBase;
import io.dkv.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Issue 13's newcomer: a controller that keeps {@code out/<name>} equal to the upper-cased value of
 * {@code in/<name>} (plain strings), written the obvious way, with no workaround: the objects carry their keys,
 * {@code forResource(in)} enqueues {@code in/<name>}, and {@code out/} is watched too so a change made to an
 * output by hand is repaired. Runs on dkv-server and on a real etcd.
 */
abstract class UpperCaseControllerContract extends ServerTestBase {

  UpperCaseControllerContract(TestServer server) {
    super(server);
  }

  // the newcomer's controller, as docs/controller.md shows it
  // region upper-case-controller
  static Manager upperCaseController(DkvClient client) {
    SharedIndexInformer<Versioned<String>> in =
        SharedIndexInformer.builder(ListerWatchers.etcd(client, "in/", Codec.string())).build();
    SharedIndexInformer<Versioned<String>> out =
        SharedIndexInformer.builder(ListerWatchers.etcd(client, "out/", Codec.string())).build();
    Controller controller = Controller.builder("upper-case")
        .forResource(in)                                                     // requests: "in/<name>"
        .watches(out, (Versioned<String> o) -> List.of(Request.ofKey("in/" + o.key().substring(4))))
        .build(request -> {
          String outKey = "out/" + request.key().substring(3);
          Optional<Versioned<String>> source = in.lister().get(request.key());
          Optional<Versioned<String>> target = out.lister().get(outKey);
          if (source.isEmpty()) {
            if (target.isPresent()) {
              client.delete(outKey);
            }
          } else {
            String want = source.get().value().toUpperCase(Locale.ROOT);
            if (target.isEmpty() || !target.get().value().equals(want)) {
              client.put(outKey, want);
            }
          }
          return Result.done();
        });
    Manager manager = Manager.builder().build();
    manager.add(controller);   // and both informers
    manager.start();
    return manager;
  }
  // endregion

  private Map<String, String> outputs() {
    Map<String, String> out = new TreeMap<>();
    client.list("out/", Codec.string()).forEach(v -> out.put(v.key(), v.value()));
    return out;
  }

  @Test
  void outFollowsInAndRepairsAChangeByHand() {
    client.put("in/before", "there before the start");
    try (Manager manager = upperCaseController(client)) {
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
