package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ControllerTest {

  record Job(String id, int spec, String team) {
    String key() {
      return "/jobs/" + id;
    }
  }

  private final FakeInformer<Job> jobs = new FakeInformer<>(Job::key);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Controller controller;

  @AfterEach
  void stop() throws InterruptedException {
    if (controller != null) {
      controller.stop();
    }
  }

  private ControllerBuilder builder() {
    return Controller.builder("jobs").meterRegistry(registry)
        .rateLimiter(RateLimiter.exponential(Duration.ofMillis(1), Duration.ofMillis(20)))
        .forResource(jobs.start(), (Job j) -> Request.ofKey(j.key()));
  }

  private double reconciles(String result) {
    return registry.get("controller.runtime.reconcile").tag("controller", "jobs").tag("result", result).counter()
        .count();
  }

  @Test
  void reconcilesExistingAndNewObjectsByKey() {
    jobs.put(new Job("a", 1, "x"));
    Map<String, Integer> seen = new ConcurrentHashMap<>();
    controller = builder().build(r -> {
      jobs.lister().get(r.key()).ifPresent(j -> seen.put(r.key(), j.spec()));
      return Result.done();
    });
    controller.start();
    jobs.put(new Job("b", 1, "x"));
    jobs.put(new Job("a", 2, "x"));
    await().until(() -> seen.equals(Map.of("/jobs/a", 2, "/jobs/b", 1)));
    await().until(() -> reconciles("success") >= 2);
  }

  @Test
  void requeueAfterReconcilesAgainWithoutAChange() {
    jobs.put(new Job("a", 1, "x"));
    AtomicInteger calls = new AtomicInteger();
    controller = builder().build(r -> calls.incrementAndGet() < 3 ? Result.requeueAfter(Duration.ofMillis(10))
        : Result.done());
    controller.start();
    await().until(() -> calls.get() == 3);
    assertEquals(2.0, reconciles("requeue_after"));
    await().until(() -> reconciles("success") == 1.0);
  }

  @Test
  void exceptionsRetryWithBackoffAndSuccessForgetsTheFailures() {
    jobs.put(new Job("a", 1, "x"));
    AtomicInteger calls = new AtomicInteger();
    DefaultController[] c = new DefaultController[1];
    controller = builder().build(r -> {
      if (calls.incrementAndGet() <= 3) {
        throw new IOException("backend down");
      }
      return Result.done();
    });
    c[0] = (DefaultController) controller;
    controller.start();
    await().until(() -> reconciles("success") == 1.0);
    assertEquals(4, calls.get());
    assertEquals(3.0, reconciles("error"));
    assertEquals(0, c[0].queue().numRequeues(Request.ofKey("/jobs/a")), "forgotten after the success");
    assertEquals(0.0, registry.get("controller.runtime.reconcile.panics").counter().count());
  }

  @Test
  void aTerminalErrorIsNotRetried() {
    jobs.put(new Job("a", 1, "x"));
    AtomicInteger calls = new AtomicInteger();
    controller = builder().build(r -> {
      calls.incrementAndGet();
      throw new TerminalException("spec is invalid");
    });
    controller.start();
    await().until(() -> reconciles("terminal_error") == 1.0);
    jobs.put(new Job("b", 1, "x")); // the controller goes on; a is not retried meanwhile
    await().until(() -> reconciles("terminal_error") == 2.0);
    assertEquals(2, calls.get());
    jobs.put(new Job("a", 2, "x"));
    await().until(() -> calls.get() == 3);
  }

  @Test
  void anUnexpectedRuntimeExceptionIsCountedAndRetriedAndTheControllerKeepsRunning() {
    jobs.put(new Job("a", 1, "x"));
    Set<String> done = ConcurrentHashMap.newKeySet();
    AtomicInteger npe = new AtomicInteger();
    controller = builder().workers(1).build(r -> {
      if (r.key().equals("/jobs/a") && npe.incrementAndGet() <= 2) {
        throw new NullPointerException("bug");
      }
      done.add(r.key());
      return Result.done();
    });
    controller.start();
    jobs.put(new Job("b", 1, "x"));
    await().until(() -> done.equals(Set.of("/jobs/a", "/jobs/b")));
    assertEquals(2.0, registry.get("controller.runtime.reconcile.panics").counter().count());
    assertEquals(2.0, registry.get("controller.runtime.reconcile.errors").counter().count());
    assertTrue(controller.isRunning());
  }

  @Test
  void manyWorkersNeverReconcileOneRequestTwiceAtOnceAndSeeTheLatestState() {
    int keys = 8;
    Set<String> inFlight = ConcurrentHashMap.newKeySet();
    AtomicInteger overlaps = new AtomicInteger();
    Map<String, Integer> lastSeen = new ConcurrentHashMap<>();
    controller = builder().workers(4).build(r -> {
      if (!inFlight.add(r.key())) {
        overlaps.incrementAndGet();
      }
      try {
        Thread.yield();
        jobs.lister().get(r.key()).ifPresent(j -> lastSeen.put(r.key(), j.spec()));
        return Result.done();
      } finally {
        inFlight.remove(r.key());
      }
    });
    controller.start();
    for (int v = 1; v <= 500; v++) {
      jobs.put(new Job("j" + (v % keys), v, "x"));
    }
    await().untilAsserted(() -> {
      for (int k = 0; k < keys; k++) {
        assertEquals(500 - ((500 - k) % keys), lastSeen.get("/jobs/j" + k), "j" + k + " at its last spec");
      }
    });
    assertEquals(0, overlaps.get());
    assertTrue(reconciles("success") < 500, "changes to a busy key were collapsed");
    assertTrue(registry.get("controller.runtime.active.workers").gauge().value() <= 4);
  }

  @Test
  void filtersAndMappedWatchesDecideWhatIsEnqueued() {
    FakeInformer<String> teams = new FakeInformer<>(s -> s);
    jobs.put(new Job("a", 1, "red"));
    jobs.put(new Job("b", 1, "blue"));
    Set<String> reconciled = ConcurrentHashMap.newKeySet();
    controller = Controller.builder("jobs").meterRegistry(registry)
        .forResource(jobs.start(), (Job j) -> Request.ofKey(j.key()), EventFilter.of((Job j) -> j.spec() > 0))
        .watches(teams.start(), team -> jobs.lister().list().stream().filter(j -> j.team().equals(team))
            .map(j -> Request.ofKey(j.key())).toList())
        .build(r -> {
          reconciled.add(r.key());
          return Result.done();
        });
    controller.start();
    await().until(() -> reconciled.equals(Set.of("/jobs/a", "/jobs/b")));
    reconciled.clear();
    jobs.put(new Job("c", 0, "red")); // filtered out
    teams.put("blue");                // maps to b
    await().until(() -> reconciled.contains("/jobs/b"));
    jobs.put(new Job("d", 1, "red"));
    await().until(() -> reconciled.contains("/jobs/d"));
    assertFalse(reconciled.contains("/jobs/c"));
  }

  @Test
  void stopDrainsInFlightReconcilesAndRemovesTheHandlers() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger finished = new AtomicInteger();
    jobs.put(new Job("a", 1, "x"));
    Controller c = builder().build(r -> {
      entered.countDown();
      release.await();
      finished.incrementAndGet();
      return Result.done();
    });
    c.start();
    assertTrue(entered.await(10, TimeUnit.SECONDS));
    Thread stopper = new Thread(() -> {
      try {
        c.stop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    stopper.start();
    await().until(() -> jobs.handlerCount() == 0);
    assertTrue(stopper.isAlive(), "stop waits for the reconcile in progress");
    release.countDown();
    stopper.join(10_000);
    assertFalse(stopper.isAlive());
    assertEquals(1, finished.get(), "the in-flight reconcile completed");
    assertFalse(c.isRunning());
    assertThrows(IllegalStateException.class, c::start);
  }

  @Test
  void stopNowInterruptsReconcilesInProgress() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    jobs.put(new Job("a", 1, "x"));
    Controller c = builder().build(r -> {
      entered.countDown();
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException e) {
        interrupted.countDown();
        throw e;
      }
      return Result.done();
    });
    c.start();
    assertTrue(entered.await(10, TimeUnit.SECONDS));
    c.stopNow();
    assertTrue(interrupted.await(10, TimeUnit.SECONDS));
    await().until(() -> c.activeWorkers() == 0);
    assertFalse(c.isRunning());
  }

  @Test
  void theBuilderRejectsIncompleteOrWrongOptions() {
    IllegalStateException noPrimary = assertThrows(IllegalStateException.class,
        () -> Controller.builder("x").build(r -> Result.done()));
    assertEquals("controller x needs a primary informer: call forResource(...)", noPrimary.getMessage());
    assertThrows(IllegalStateException.class, () -> Controller.builder("x")
        .forResource(jobs, (Job j) -> Request.ofKey(j.key())).owns(new FakeInformer<>(p -> "p")));
    assertThrows(IllegalArgumentException.class, () -> Controller.builder("x").workers(0));
    assertThrows(IllegalArgumentException.class, () -> Controller.builder(" "));
    assertThrows(IllegalArgumentException.class, () -> Result.requeueAfter(Duration.ofSeconds(-1)));
  }
}
