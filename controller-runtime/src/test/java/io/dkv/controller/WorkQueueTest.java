package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WorkQueueTest {

  private static RateLimitingQueue<String> queue() {
    return WorkQueue.<String>builder().meterRegistry(null).build();
  }

  @Test
  void isFifoAndCollapsesDuplicates() throws Exception {
    RateLimitingQueue<String> q = queue();
    q.add("a");
    q.add("b");
    q.add("a");
    q.add("c");
    assertEquals(3, q.len());
    assertEquals("a", q.get());
    assertEquals("b", q.get());
    assertEquals("c", q.get());
    assertEquals(0, q.len());
  }

  @Test
  void anItemAddedWhileProcessingIsQueuedOnceWhenDone() throws Exception {
    RateLimitingQueue<String> q = queue();
    q.add("a");
    assertEquals("a", q.get());
    q.add("a");
    q.add("a");
    assertEquals(0, q.len(), "not handed to a second worker while the first holds it");
    q.add("b");
    assertEquals("b", q.get());
    q.done("a");
    assertEquals(1, q.len());
    assertEquals("a", q.get());
    q.done("a");
    q.done("b");
    assertEquals(0, q.len());
  }

  @Test
  void doneForAnItemNeverHandedOutIsIgnored() throws Exception {
    RateLimitingQueue<String> q = queue();
    q.add("a");
    q.done("a");
    assertEquals(1, q.len());
    assertEquals("a", q.get());
  }

  @Test
  void shutDownWakesWaitingWorkersAndIgnoresLaterAdds() throws Exception {
    RateLimitingQueue<String> q = queue();
    CompletableFuture<String> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return q.get();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    q.shutDown();
    assertNull(waiting.get(10, TimeUnit.SECONDS));
    q.add("a");
    assertEquals(0, q.len());
    assertNull(q.get());
    assertTrue(q.isShuttingDown());
  }

  @Test
  void shutDownWithDrainWaitsForItemsInProgress() throws Exception {
    RateLimitingQueue<String> q = queue();
    q.add("a");
    q.add("b");
    assertEquals("a", q.get());
    CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> {
      try {
        q.shutDownWithDrain();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    await().until(q::isShuttingDown);
    assertFalse(drained.isDone(), "a is still in progress");
    assertNull(q.get(), "queued items are not handed out after shut down");
    q.done("a");
    drained.get(10, TimeUnit.SECONDS);
  }

  @Test
  void delayedItemsArriveInDueOrder() throws Exception {
    RateLimitingQueue<String> q = queue();
    // added out of order; 250 ms apart, so a stall while adding cannot reorder them (the stress test checks
    // the order against measured times)
    q.addAfter("d1000", Duration.ofMillis(1000));
    q.addAfter("d250", Duration.ofMillis(250));
    q.addAfter("d750", Duration.ofMillis(750));
    q.addAfter("d500", Duration.ofMillis(500));
    q.addAfter("now", Duration.ZERO);
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      order.add(q.get());
    }
    assertEquals(List.of("now", "d250", "d500", "d750", "d1000"), order);
    q.shutDown();
  }

  @Test
  void anItemWaitingTwiceIsAddedOnceAtTheEarlierTime() throws Exception {
    RateLimitingQueue<String> q = queue();
    q.addAfter("a", Duration.ofHours(1));
    q.addAfter("a", Duration.ofMillis(20));
    q.addAfter("b", Duration.ofMillis(30));
    q.addAfter("b", Duration.ofHours(1));
    assertEquals("a", q.get());
    assertEquals("b", q.get());
    q.done("a");
    q.done("b");
    q.add("c");
    assertEquals("c", q.get(), "no second a or b was waiting");
    q.shutDown();
  }

  @Test
  void addRateLimitedBacksOffAndForgetStartsOver() throws Exception {
    RateLimitingQueue<String> q = WorkQueue.<String>builder().meterRegistry(null)
        .rateLimiter(RateLimiter.fastSlow(Duration.ZERO, Duration.ofHours(1), 2)).build();
    q.addRateLimited("a");
    assertEquals("a", q.get());
    q.done("a");
    q.addRateLimited("a");
    assertEquals("a", q.get());
    q.done("a");
    assertEquals(2, q.numRequeues("a"));
    q.addRateLimited("a"); // slow now: waits an hour
    q.add("b");
    assertEquals("b", q.get());
    q.forget("a");
    assertEquals(0, q.numRequeues("a"));
    q.shutDown();
  }

  @Test
  void metricsFollowClientGo() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RateLimitingQueue<String> q = WorkQueue.<String>builder().name("jobs").meterRegistry(registry)
        .rateLimiter(RateLimiter.fastSlow(Duration.ZERO, Duration.ZERO, 1)).build();
    q.add("a");
    q.add("a");
    q.add("b");
    assertEquals(2.0, registry.get("workqueue.depth").tag("name", "jobs").gauge().value());
    assertEquals("a", q.get());
    assertEquals(1.0, registry.get("workqueue.depth").tag("name", "jobs").gauge().value());
    await().until(() -> registry.get("workqueue.longest.running.processor").gauge().value() > 0);
    assertTrue(registry.get("workqueue.unfinished.work").gauge().value() > 0);
    q.done("a");
    q.addRateLimited("a");
    assertEquals(3.0, registry.get("workqueue.adds").tag("name", "jobs").counter().count(),
        "a, b, and a again; the duplicate is not an add");
    assertEquals(1.0, registry.get("workqueue.retries").counter().count());
    assertEquals(1, registry.get("workqueue.queue.duration").timer().count());
    assertEquals(1, registry.get("workqueue.work.duration").timer().count());
    assertEquals(0.0, registry.get("workqueue.unfinished.work").gauge().value());
    q.shutDown();
  }
}
