package io.dkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The one serial executor: order, one task at a time, survival of throwing tasks, close. */
class SerialExecutorTest {

  private final ExecutorService pool = Executors.newFixedThreadPool(8);

  @AfterEach
  void stopPool() throws InterruptedException {
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
  }

  @Test
  void underConcurrentSubmittersTasksRunOneAtATimeInSubmissionOrder() throws Exception {
    int submitters = 4;
    int perSubmitter = 20_000;
    SerialExecutor serial = new SerialExecutor(pool, "stress");
    AtomicInteger running = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    Map<Integer, List<Integer>> seen = new ConcurrentHashMap<>();
    AtomicInteger done = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int s = 0; s < submitters; s++) {
      int id = s;
      seen.put(id, new ArrayList<>());
      Thread t = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < perSubmitter; i++) {
          int n = i;
          serial.execute(() -> {
            if (running.incrementAndGet() != 1) {
              overlaps.incrementAndGet();
            }
            seen.get(id).add(n); // unsynchronized on purpose: tasks run one at a time, each after the last
            if (n % 1000 == 0) {
              Thread.yield();
            }
            running.decrementAndGet();
            done.incrementAndGet();
          });
        }
      });
      threads.add(t);
      t.start();
    }
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> done.get() == submitters * perSubmitter);
    assertEquals(0, overlaps.get(), "two tasks ran at once");
    for (List<Integer> order : seen.values()) {
      assertEquals(perSubmitter, order.size());
      for (int i = 0; i < perSubmitter; i++) {
        assertEquals(i, order.get(i), "tasks of one submitter out of order");
      }
    }
  }

  @Test
  void aTaskThatThrowsDoesNotStopTheNextOnes() {
    SerialExecutor serial = new SerialExecutor(pool, "throwing");
    List<Integer> ran = new CopyOnWriteArrayList<>();
    serial.execute(() -> ran.add(1));
    serial.execute(() -> {
      throw new IllegalStateException("boom");
    });
    serial.execute(() -> ran.add(2));
    serial.execute(() -> {
      throw new AssertionError("an Error too");
    });
    serial.execute(() -> ran.add(3));
    await().atMost(Duration.ofSeconds(10)).until(() -> ran.size() == 3);
    serial.execute(() -> ran.add(4)); // still accepting after the drain ended
    await().atMost(Duration.ofSeconds(10)).until(() -> ran.size() == 4);
    assertEquals(List.of(1, 2, 3, 4), ran);
  }

  @Test
  void closeWaitsForTheRunningTaskThenNothingRuns() throws Exception {
    SerialExecutor serial = new SerialExecutor(pool, "closing");
    CountDownLatch inFirst = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean firstFinished = new AtomicBoolean();
    AtomicInteger later = new AtomicInteger();
    serial.execute(() -> {
      inFirst.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      firstFinished.set(true);
    });
    for (int i = 0; i < 10; i++) {
      serial.execute(later::incrementAndGet);
    }
    assertTrue(inFirst.await(10, TimeUnit.SECONDS));
    AtomicBoolean closeReturned = new AtomicBoolean();
    AtomicBoolean finishedWhenCloseReturned = new AtomicBoolean();
    Thread closer = new Thread(() -> {
      serial.close();
      finishedWhenCloseReturned.set(firstFinished.get());
      closeReturned.set(true);
    });
    closer.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> closer.getState() == Thread.State.WAITING);
    assertFalse(closeReturned.get(), "close() returned while a task was running");
    serial.execute(later::incrementAndGet); // dropped: closed
    release.countDown();
    closer.join(10_000);
    assertTrue(closeReturned.get());
    assertTrue(finishedWhenCloseReturned.get(), "close() returned before the running task ended");
    // whatever was queued would run right after the first task: give it the chance, then check it did not
    CountDownLatch probe = new CountDownLatch(1);
    pool.execute(probe::countDown);
    assertTrue(probe.await(10, TimeUnit.SECONDS));
    assertEquals(0, later.get());
    assertTrue(serial.isClosed());
  }

  @Test
  void closeFromATaskReturnsAtOnceAndTheTaskFinishes() {
    SerialExecutor serial = new SerialExecutor(pool, "self-closing");
    List<String> ran = new CopyOnWriteArrayList<>();
    serial.execute(() -> {
      serial.close();
      ran.add("after close, in the closing task");
    });
    serial.execute(() -> ran.add("never"));
    await().atMost(Duration.ofSeconds(10)).until(() -> ran.size() == 1);
    assertEquals(List.of("after close, in the closing task"), ran);
  }

  @Test
  void underConcurrentCloseNoTaskStartsAfterCloseReturned() throws Exception {
    for (int round = 0; round < 100; round++) {
      SerialExecutor serial = new SerialExecutor(pool, "racing");
      AtomicBoolean closed = new AtomicBoolean();
      AtomicInteger late = new AtomicInteger();
      AtomicInteger ran = new AtomicInteger();
      Thread feeder = new Thread(() -> {
        for (int i = 0; i < 1_000; i++) {
          serial.execute(() -> {
            if (closed.get()) {
              late.incrementAndGet();
            }
            ran.incrementAndGet();
          });
        }
      });
      feeder.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> ran.get() > 0 || !feeder.isAlive());
      serial.close();
      closed.set(true);
      feeder.join();
      CountDownLatch probe = new CountDownLatch(8);
      for (int i = 0; i < 8; i++) {
        pool.execute(probe::countDown);
      }
      assertTrue(probe.await(10, TimeUnit.SECONDS));
      assertEquals(0, late.get(), "round " + round + ": a task started after close() returned");
    }
  }

  @Test
  void aRejectingPoolClosesTheExecutor() {
    ExecutorService dead = Executors.newSingleThreadExecutor();
    dead.shutdown();
    SerialExecutor serial = new SerialExecutor(dead, "rejected");
    AtomicInteger ran = new AtomicInteger();
    serial.execute(ran::incrementAndGet);
    assertTrue(serial.isClosed());
    serial.execute(ran::incrementAndGet);
    assertEquals(0, ran.get());
  }
}
