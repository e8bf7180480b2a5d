package io.dkv.informer;

import io.dkv.testing.TestServer;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The code shown in docs/informer.md, compiled and run against an embedded dkv-server. */
class GuideExamplesTest {

  /** The guide's example object. */
  public record Job(String id, String owner, String state, String log) {}

  @Test
  void theGuideExample(@TempDir Path dir) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Set<String> queue = ConcurrentHashMap.newKeySet();
    Set<String> cancelled = ConcurrentHashMap.newKeySet();
    try (TestServer.Running server = TestServer.DKV.start(dir); DkvClient client = DkvClient.connect(server.endpoint())) {
      client.put("/jobs/j1", new Job("j1", "alice", "running", "a very long log ..."));
      client.put("/jobs/j2", new Job("j2", "bob", "queued", ""));

      // region build
      SharedIndexInformer<Versioned<Job>> jobs = SharedIndexInformer
          .builder(ListerWatchers.etcd(client, "/jobs/", Codec.json(Job.class)))   // objects carry their key
          .name("jobs")                                              // the informer=jobs tag of its metrics
          .index("byOwner", v -> List.of(v.value().owner()))
          .transform(v -> v.withValue(new Job(v.value().id(), v.value().owner(), v.value().state(), null))) // no log
          .meterRegistry(registry)
          .build();

      HandlerRegistration registration = jobs.addEventHandler(new ResourceEventHandler<>() {
        @Override
        public void onAdd(Versioned<Job> job, boolean initial) {
          queue.add(job.key());
        }

        @Override
        public void onUpdate(Versioned<Job> before, Versioned<Job> after) {
          queue.add(after.key());
        }

        @Override
        public void onDelete(Versioned<Job> job, boolean finalStateUnknown) {
          cancelled.add(job.key());
        }
      });
      jobs.start();
      // endregion

      // region read
      await().until(registration::hasSynced);         // this handler has seen every initial object
      List<Versioned<Job>> alices = jobs.lister().byIndex("byOwner", "alice");
      Job j2 = jobs.lister().get("/jobs/j2").orElseThrow().value();   // key, value, revisions, version, lease
      long revision = jobs.lister().revision();        // the cache reflects everything up to here
      // endregion

      assertEquals(List.of(new Job("j1", "alice", "running", null)), alices.stream().map(Versioned::value).toList());
      assertEquals("/jobs/j1", alices.get(0).key());
      assertEquals("queued", j2.state());
      assertTrue(revision > 0);
      assertEquals(Set.of("/jobs/j1", "/jobs/j2"), queue);

      client.delete("/jobs/j1");
      await().until(() -> cancelled.contains("/jobs/j1"));

      // region audit
      AuditReport report = jobs.audit();
      if (!report.clean()) {
        // already repaired; report.missing(), extra(), stale() tell what had drifted
      }
      // endregion
      assertTrue(report.clean());

      // region close
      jobs.close();
      jobs.stopped().join();                           // exceptionally, if the ErrorHandler chose to stop
      // endregion
    }
  }
}
