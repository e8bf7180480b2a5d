package io.dkv.informer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The informer over an in-memory source: its guarantees with failures the test controls exactly. */
class InformerTest {

  private final FakeSource source = new FakeSource();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  private InformerBuilder<String> builder() {
    return SharedIndexInformer.builder(source).name("test").pageSize(3).meterRegistry(meters)
        .backoff(Duration.ofMillis(5), Duration.ofMillis(50));
  }

  private static Map<String, String> cache(SharedIndexInformer<String> informer) {
    Map<String, String> out = new TreeMap<>();
    for (String k : informer.lister().keys()) {
      out.put(k, informer.lister().get(k).orElseThrow());
    }
    return out;
  }

  private Map<String, String> sourceState() {
    Map<String, String> out = new TreeMap<>();
    source.state().forEach((k, i) -> out.put(k, i.object()));
    return out;
  }

  private void awaitConverged(SharedIndexInformer<String> informer) {
    long rev = source.revision();
    await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().revision() >= rev);
    assertEquals(sourceState(), cache(informer));
  }

  private double count(String name) {
    return meters.get(name).counter().count();
  }

  @Test
  void relistAfterLostHistoryHandsOnlyTheTrueDifferences() {
    for (int i = 0; i < 10; i++) {
      source.put("k" + i, "k" + i + "|0");
    }
    Recorder r = new Recorder();
    try (SharedIndexInformer<String> informer = builder().build()) {
      informer.addEventHandler(r);
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> r.total.get() == 10);
      r.clearCalls();
      source.silenceWatches();
      source.put("k1", "k1|1");
      source.delete("k2");
      source.put("k10", "k10|1");
      source.compact(source.revision());
      source.breakWatches(new HistoryGoneException("compacted", source.revision()));
      awaitConverged(informer);
      await().atMost(Duration.ofSeconds(30)).until(() -> r.calls().size() == 3);
      assertEquals(Set.of(new Recorder.Call("update", "k1|0", "k1|1", false),
          new Recorder.Call("delete", "k2|0", null, true), new Recorder.Call("add", null, "k10|1", false)),
          Set.copyOf(r.calls()));
      assertEquals(1.0, count("informer.relists"));
    }
  }

  @Test
  void transientErrorsResumeFromTheLastRevisionWithoutListing() {
    source.put("a", "a|0");
    try (SharedIndexInformer<String> informer = builder().build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      for (int i = 1; i <= 5; i++) {
        source.breakWatches(i % 2 == 0 ? null : new IllegalStateException("connection reset"));
        source.put("a", "a|" + i);
      }
      awaitConverged(informer);
      assertEquals(1, source.lists.get(), "listed once");
      assertTrue(source.watchesOpened.get() >= 2);
      assertEquals(0.0, count("informer.relists"));
    }
  }

  @Test
  void bookmarksAdvanceTheRevision() {
    source.put("a", "a|0");
    try (SharedIndexInformer<String> informer = builder().build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      long written = source.putUnseen("b", "b|0"); // open watches do not hear of it: as if it were elsewhere
      source.bookmark();
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().revision() == written);
      assertEquals(Set.of("a"), informer.lister().keys(), "a bookmark moves the revision, not the objects");
    }
  }

  @Test
  void aSilentWatchIsAskedForProgressThenReopenedFromTheLastRevision() {
    source.put("a", "a|0");
    source.answerProgress(false);
    try (SharedIndexInformer<String> informer = builder().watchSilenceTimeout(Duration.ofMillis(200)).build()
        .start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      source.silenceWatches();
      source.putUnseen("a", "a|1");
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().get("a").orElseThrow().equals("a|1"));
      assertTrue(source.progressRequests.get() >= 1, "asked for progress before giving up");
      assertEquals(1, source.lists.get(), "resumed, not relisted");
    }
  }

  @Test
  void aHealthyIdleWatchAnswersProgressRequestsAndStaysOpen() {
    source.put("a", "a|0");
    try (SharedIndexInformer<String> informer = builder().watchSilenceTimeout(Duration.ofMillis(200)).build()
        .start()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> source.progressRequests.get() >= 3);
      assertEquals(1, source.watchesOpened.get());
      assertTrue(informer.isWatching());
    }
  }

  @Test
  void theErrorHandlerCanStopTheInformer() {
    IllegalStateException boom = new IllegalStateException("boom");
    source.failLists(boom);
    SharedIndexInformer<String> informer = builder().errorHandler(e -> !(e instanceof IllegalStateException))
        .build().start();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> informer.stopped().get(30, TimeUnit.SECONDS));
    assertSame(boom, e.getCause());
    assertFalse(informer.isWatching());
    informer.close(); // no effect
    assertTrue(informer.stopped().isCompletedExceptionally());
  }

  @Test
  void retriedErrorsBackOffAndRecover() {
    source.failLists(new IllegalStateException("unavailable"));
    try (SharedIndexInformer<String> informer = builder().build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> source.lists.get() >= 3);
      assertFalse(informer.hasSynced());
      source.failLists(null);
      source.put("a", "a|0");
      await().atMost(Duration.ofSeconds(30)).until(informer::hasSynced);
      awaitConverged(informer);
    }
  }

  @Test
  void closeStopsEverythingAndCompletesNormally() throws Exception {
    try (SharedIndexInformer<String> informer = builder().build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      informer.close();
      informer.stopped().get(30, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(30)).until(() -> source.openWatches() == 0);
      assertFalse(informer.isWatching());
      assertThrows(IllegalStateException.class, () -> informer.addEventHandler(new Recorder()));
    }
  }

  @Test
  void auditFindsAndRepairsDrift() {
    source.put("a", "a|0");
    source.put("b", "b|0");
    Recorder r = new Recorder();
    try (SharedIndexInformer<String> informer = builder().build()) {
      informer.addEventHandler(r);
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> r.total.get() == 2);
      assertTrue(informer.audit().clean());
      // changes a broken watch never delivered, while the cache claims their revision: drift
      source.silenceWatches();
      source.putUnseen("a", "a|1");
      source.putUnseen("c", "c|0");
      source.bookmarkUnseen();
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().revision() == source.revision());
      AuditReport report = informer.audit();
      assertEquals(Set.of("c"), report.missing());
      assertEquals(Set.of("a"), report.stale());
      assertEquals(Set.of(), report.extra());
      assertEquals(sourceState(), cache(informer));
      await().atMost(Duration.ofSeconds(30)).until(() -> r.current().equals(sourceState()));
      assertTrue(informer.audit().clean());
      assertEquals(2.0, count("informer.audit.drift"));
    }
  }

  @Test
  void periodicAuditsRepairDriftByThemselves() {
    source.put("a", "a|0");
    try (SharedIndexInformer<String> informer = builder().auditPeriod(Duration.ofMillis(50)).build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      source.silenceWatches();
      source.putUnseen("b", "b|0");
      source.bookmarkUnseen();
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().get("b").isPresent());
    }
  }

  @Test
  void lateHandlersGetInitialAddsAndRemovedHandlersNothing() {
    for (int i = 0; i < 5; i++) {
      source.put("k" + i, "k" + i + "|0");
    }
    try (SharedIndexInformer<String> informer = builder().build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::hasSynced);
      Recorder late = new Recorder();
      HandlerRegistration reg = informer.addEventHandler(late);
      await().atMost(Duration.ofSeconds(30)).until(reg::hasSynced);
      assertEquals(5, late.initialAdds.get());
      Recorder removed = new Recorder();
      HandlerRegistration gone = informer.addEventHandler(removed);
      await().atMost(Duration.ofSeconds(30)).until(gone::hasSynced);
      informer.removeEventHandler(gone);
      assertThrows(IllegalArgumentException.class, () -> informer.removeEventHandler(gone));
      source.put("k9", "k9|0");
      awaitConverged(informer);
      await().atMost(Duration.ofSeconds(30)).until(() -> late.total.get() == 6);
      assertEquals(5, removed.total.get());
    }
  }

  @Test
  void handlersAddedAndRemovedWhileChangesFlowSeeConsistentSequences() throws Exception {
    java.util.Map<String, List<String>> history = new java.util.concurrent.ConcurrentHashMap<>();
    for (int k = 0; k < 8; k++) {
      String key = "k" + k;
      source.put(key, key + "|init");
      history.put(key, new java.util.ArrayList<>(List.of(key + "|init")));
    }
    try (SharedIndexInformer<String> informer = builder().build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::hasSynced);
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      Thread writer = new Thread(() -> {
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; !stop.get(); i++) {
          String key = "k" + random.nextInt(8);
          if (random.nextInt(4) == 0) {
            history.get(key).add(null);
            source.delete(key);
          } else {
            history.get(key).add(key + "|" + i);
            source.put(key, key + "|" + i);
          }
        }
      });
      writer.start();
      List<Recorder> kept = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < 10; i++) {
          Recorder r = new Recorder();
          HandlerRegistration reg = informer.addEventHandler(r);
          await().atMost(Duration.ofSeconds(30)).until(reg::hasSynced);
          if (i % 2 == 0) {
            kept.add(r);
          } else {
            informer.removeEventHandler(reg);
          }
        }
      } finally {
        stop.set(true);
        writer.join();
      }
      awaitConverged(informer);
      for (Recorder r : kept) {
        await().atMost(Duration.ofSeconds(30)).until(() -> r.current().equals(sourceState()));
        assertEquals(List.of(), r.violations());
        assertEquals(List.of(), r.notSubsequenceOf(history));
      }
    }
  }

  @Test
  void resyncRedeliversEveryObjectAsAnUpdateToItself() {
    source.put("a", "a|0");
    source.put("b", "b|0");
    Recorder r = new Recorder();
    try (SharedIndexInformer<String> informer = builder().build()) {
      informer.addEventHandler(r, Duration.ofMillis(50));
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> r.resyncs.get() >= 4);
      assertEquals(List.of(), r.violations());
    }
  }

  @Test
  void transformAndIndexesApplyToCachedObjects() {
    source.put("a", "a|red");
    source.put("b", "b|blue");
    source.put("c", "c|red");
    try (SharedIndexInformer<String> informer = builder()
        .transform(String::toUpperCase)
        .index("color", v -> List.of(v.substring(v.indexOf('|') + 1)))
        .build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::hasSynced);
      assertEquals(List.of("A|RED", "C|RED"), informer.lister().byIndex("color", "RED"));
      source.put("a", "a|blue");
      await().atMost(Duration.ofSeconds(30))
          .until(() -> informer.lister().byIndex("color", "BLUE").equals(List.of("A|BLUE", "B|BLUE")));
      assertEquals(List.of("C|RED"), informer.lister().byIndex("color", "RED"));
      assertThrows(IllegalArgumentException.class, () -> informer.lister().byIndex("size", "x"));
    }
  }

  @Test
  void metricsTellLagBacklogAndEvents() {
    source.put("a", "a|0");
    try (SharedIndexInformer<String> informer = builder().name("m").build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      source.put("a", "a|1");
      source.delete("a");
      awaitConverged(informer);
      await().atMost(Duration.ofSeconds(30))
          .until(() -> meters.get("informer.events").tag("type", "DELETED").counter().count() == 1.0);
      assertEquals(1.0, meters.get("informer.events").tag("informer", "m").tag("type", "MODIFIED").counter().count());
      assertEquals(0.0, meters.get("informer.lag").gauge().value());
      assertEquals(0.0, meters.get("informer.handler.backlog").gauge().value());
      assertTrue(meters.get("informer.last.sync").gauge().value() > 0);
    }
    assertTrue(meters.find("informer.lag").gauges().isEmpty(), "meters removed on close");
  }
}
