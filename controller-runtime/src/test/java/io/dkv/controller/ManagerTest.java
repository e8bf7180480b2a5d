package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ManagerTest {

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(Manager m, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static Controller controller(Manager m, FakeInformer<String> informer, Reconciler r) {
    return Controller.builder("names").meterRegistry(m.meterRegistry())
        .forResource(informer, Request::ofKey).build(r);
  }

  @Test
  void startsInformersWaitsForSyncThenRunsControllersAndServesHealthAndMetrics() throws Exception {
    FakeInformer<String> names = new FakeInformer<String>(s -> s).syncLater();
    names.put("a");
    Set<String> reconciled = ConcurrentHashMap.newKeySet();
    try (Manager m = Manager.builder().httpAddress(new InetSocketAddress("127.0.0.1", 0)).build()) {
      Controller c = controller(m, names, r -> {
        reconciled.add(r.key());
        return Result.done();
      });
      m.add(c);
      CompletableFuture<Void> starting = CompletableFuture.runAsync(m::start);
      await().until(names::started);
      await().until(() -> get(m, "/healthz").statusCode() == 200);
      assertEquals(503, get(m, "/readyz").statusCode(), "not ready before the informers synced");
      assertFalse(c.isRunning(), "controllers wait for the sync");
      names.markSynced();
      starting.get(10, TimeUnit.SECONDS);
      assertTrue(c.isRunning());
      assertEquals(200, get(m, "/readyz").statusCode());
      await().until(() -> reconciled.contains("a"));
      HttpResponse<String> metrics = get(m, "/metrics");
      assertEquals(200, metrics.statusCode());
      assertTrue(metrics.body().contains("controller_runtime_reconcile_total{controller=\"names\",result=\"success\"}"),
          metrics.body());
      assertTrue(metrics.body().contains("workqueue_adds_total{name=\"names\"}"), metrics.body());
      assertTrue(metrics.body().contains("workqueue_depth{name=\"names\"}"), metrics.body());
      assertTrue(m.isLeader(), "without an election the controllers always run");
    }
    assertTrue(names.stopped().isDone(), "the manager closes its informers");
  }

  @Test
  void aSyncTimeoutFailsWithTheNamesOfTheLaggingInformers() {
    FakeInformer<String> slow = new FakeInformer<String>(s -> s).syncLater();
    try (Manager m = Manager.builder().syncTimeout(Duration.ofMillis(200)).build()) {
      m.add(slow);
      IllegalStateException e = assertThrows(IllegalStateException.class, m::start);
      assertTrue(e.getMessage().startsWith("informers not synced within PT0.2S: " + slow), e.getMessage());
      assertFalse(m.isHealthy());
    }
  }

  @Test
  void closeDrainsReconcilesInProgress() throws Exception {
    FakeInformer<String> names = new FakeInformer<>(s -> s);
    names.put("a");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean finished = new AtomicBoolean();
    Manager m = Manager.builder().build();
    m.add(controller(m, names, r -> {
      entered.countDown();
      release.await();
      finished.set(true);
      return Result.done();
    }));
    m.start();
    assertTrue(entered.await(10, TimeUnit.SECONDS));
    CompletableFuture<Void> closing = CompletableFuture.runAsync(m::close);
    await().until(() -> names.handlerCount() == 0);
    assertFalse(closing.isDone(), "close waits for the reconcile in progress");
    release.countDown();
    closing.get(10, TimeUnit.SECONDS);
    assertTrue(finished.get());
    assertTrue(m.stopped().isDone());
    assertFalse(m.stopped().isCompletedExceptionally());
  }

  @Test
  void aShutdownTimeoutInterruptsReconcilesThatDoNotFinish() throws Exception {
    FakeInformer<String> names = new FakeInformer<>(s -> s);
    names.put("a");
    CountDownLatch entered = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    Manager m = Manager.builder().shutdownTimeout(Duration.ofMillis(100)).build();
    m.add(controller(m, names, r -> {
      entered.countDown();
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException e) {
        interrupted.set(true);
        throw e;
      }
      return Result.done();
    }));
    m.start();
    assertTrue(entered.await(10, TimeUnit.SECONDS));
    m.close();
    await().untilTrue(interrupted);
  }
}
