package io.dkv.examples.docs;

import io.dkv.testing.TestServer;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.client.DkvClient;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the snippets of docs/resources.md that need no informer against an embedded dkv-server. */
class ResourcesGuideTest {

  @Test
  void theOptimisticUpdateLoopLosesNoIncrementUnderContention(@TempDir Path dir) throws Exception {
    try (TestServer.Running server = TestServer.DKV.start(dir); DkvClient client = DkvClient.connect(server.endpoint())) {
      ResourcesGuide guide = new ResourcesGuide(client);
      Widget w = new Widget();
      w.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("counter").build());
      w.setSpec(new Widget.Spec());
      guide.widgets.create(w);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          done.add(pool.submit(() -> {
            for (int i = 0; i < 10; i++) {
              guide.increment();
            }
          }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(40, guide.widgets.get("shop", "counter").orElseThrow().getSpec().getCount());
    }
  }
}
