package io.dkv.informer;

import io.dkv.testing.LogCapture;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What an operator reads when an informer's source goes away and comes back: one WARN line naming the source and
 * the cause, one INFO line with the revision it resumed from, and the failed attempts between them only at DEBUG;
 * {@link SharedIndexInformer#lastError()} holds the cause meanwhile.
 */
class OutageLogTest {

  private static final String CAUSE = "cannot reach 127.0.0.1:23791: connection refused";

  private final FakeSource source = new FakeSource();
  private final Flaky flaky = new Flaky(source);

  /** The fake source, except that while {@link #down} every list throws and every watch fails at once. */
  static final class Flaky implements ListerWatcher<String> {
    final ListerWatcher<String> delegate;
    volatile boolean down;
    final AtomicInteger failedCalls = new AtomicInteger();

    Flaky(ListerWatcher<String> delegate) {
      this.delegate = delegate;
    }

    @Override
    public Page<String> list(long revision, String continueFrom, int limit) {
      if (down) {
        failedCalls.incrementAndGet();
        throw new IllegalStateException(CAUSE);
      }
      return delegate.list(revision, continueFrom, limit);
    }

    @Override
    public WatchHandle watch(long revision, WatchSink<String> sink) {
      if (down) {
        failedCalls.incrementAndGet();
        Thread t = new Thread(() -> sink.closed(new IllegalStateException(CAUSE)));
        t.start();
        return new WatchHandle() {
          @Override
          public void close() {}

          @Override
          public boolean requestProgress() {
            return false;
          }
        };
      }
      return delegate.watch(revision, sink);
    }

    @Override
    public String description() {
      return "flaky:jobs/";
    }
  }

  private SharedIndexInformer<String> informer() {
    return SharedIndexInformer.builder(flaky).name("jobs").meterRegistry(new SimpleMeterRegistry())
        .backoff(Duration.ofMillis(5), Duration.ofMillis(20)).build();
  }

  @Test
  void oneWarnWhenTheWatchLosesItsSourceAndOneInfoWhenItResumes() {
    source.put("a", "a|0");
    try (LogCapture log = new LogCapture(Reflector.class); SharedIndexInformer<String> informer = informer()) {
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      assertTrue(informer.lastError().isEmpty(), "no error while healthy");

      flaky.down = true;
      source.breakWatches(new IllegalStateException(CAUSE));
      await().atMost(Duration.ofSeconds(30)).until(() -> flaky.failedCalls.get() >= 5);
      assertEquals(CAUSE, informer.lastError().orElseThrow().getMessage());
      List<String> warnings = log.at(Level.WARN);
      assertEquals(1, warnings.size(), "one WARN for the whole outage: " + log.operatorLines());
      assertTrue(warnings.get(0).contains("lost its source flaky:jobs/") && warnings.get(0).contains(CAUSE),
          warnings.get(0));
      assertTrue(log.at(Level.DEBUG).stream().filter(l -> l.contains("still failing")).count() >= 4,
          "the repeated failures are at DEBUG");
      assertTrue(log.at(Level.INFO).isEmpty(), log.operatorLines().toString());

      long before = informer.lister().revision();
      flaky.down = false;
      long written = source.put("b", "b|0");
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().get("b").isPresent());
      await().atMost(Duration.ofSeconds(30)).until(() -> !log.at(Level.INFO).isEmpty());
      List<String> infos = log.at(Level.INFO);
      assertEquals(1, infos.size(), log.operatorLines().toString());
      assertTrue(infos.get(0).contains("source flaky:jobs/ answers again; watching from revision " + before),
          infos.get(0));
      assertTrue(informer.lastError().isEmpty(), "cleared once the source answers");
      assertEquals(1, log.at(Level.WARN).size(), log.operatorLines().toString());
      assertEquals(written, informer.lister().revision());
    }
  }

  @Test
  void oneWarnWhileTheFirstListFailsAndOneInfoOnceItSucceeds() {
    flaky.down = true;
    try (LogCapture log = new LogCapture(Reflector.class); SharedIndexInformer<String> informer = informer()) {
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> flaky.failedCalls.get() >= 5);
      assertFalse(informer.hasSynced());
      assertEquals(CAUSE, informer.lastError().orElseThrow().getMessage());
      assertEquals(List.of("WARN informer jobs: cannot reach its source flaky:jobs/: " + CAUSE
          + "; retrying (listing)"), log.operatorLines());

      flaky.down = false;
      await().atMost(Duration.ofSeconds(30)).until(informer::hasSynced);
      await().atMost(Duration.ofSeconds(30)).until(() -> log.operatorLines().size() == 2);
      assertTrue(log.operatorLines().get(1).startsWith("INFO informer jobs: source flaky:jobs/ answers again;"
          + " listed at revision "), log.operatorLines().get(1));
      assertTrue(informer.lastError().isEmpty());
    }
  }

  @Test
  void aHealthyInformerLogsNothingForAnOperator() {
    source.put("a", "a|0");
    try (LogCapture log = new LogCapture(Reflector.class); SharedIndexInformer<String> informer = informer()) {
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      source.put("b", "b|0");
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().get("b").isPresent());
      assertEquals(List.of(), log.operatorLines());
      assertTrue(informer.lastError().isEmpty());
    }
  }
}
