package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * Many producers and workers on one queue: no item is ever held by two workers, and every add is followed by a
 * handling that sees it (the level-triggered guarantee).
 */
class WorkQueueStressTest {

  private static final int KEYS = 64;
  private static final int PRODUCERS = 4;
  private static final int WORKERS = 4;
  private static final int ADDS_PER_PRODUCER = 25_000;

  @Test
  void noItemIsHandledConcurrentlyAndNoAddIsLost() throws Exception {
    RateLimitingQueue<Integer> q = WorkQueue.<Integer>builder().meterRegistry(null)
        .rateLimiter(RateLimiter.exponential(Duration.ofNanos(1000), Duration.ofMillis(1))).build();
    AtomicLongArray version = new AtomicLongArray(KEYS); // bumped before each add
    AtomicLongArray handled = new AtomicLongArray(KEYS); // the latest version a worker saw after get()
    Set<Integer> inFlight = ConcurrentHashMap.newKeySet();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger handlings = new AtomicInteger();

    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      Thread t = new Thread(() -> {
        try {
          Integer key;
          while ((key = q.get()) != null) {
            if (!inFlight.add(key)) {
              overlaps.incrementAndGet();
            }
            Thread.yield(); // widen the window in which a second worker could get the same key
            long seen = version.get(key);
            handled.accumulateAndGet(key, seen, Math::max);
            handlings.incrementAndGet();
            if (ThreadLocalRandom.current().nextInt(50) == 0) {
              q.addRateLimited(key); // a failed reconcile: retried with backoff
            } else {
              q.forget(key);
            }
            inFlight.remove(key);
            q.done(key);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "worker-" + w);
      t.start();
      workers.add(t);
    }
    List<Thread> producers = new ArrayList<>();
    for (int p = 0; p < PRODUCERS; p++) {
      Thread t = new Thread(() -> {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < ADDS_PER_PRODUCER; i++) {
          int key = r.nextInt(KEYS);
          version.incrementAndGet(key);
          if (r.nextInt(10) == 0) {
            q.addAfter(key, Duration.ofNanos(r.nextInt(200_000)));
          } else {
            q.add(key);
          }
        }
      }, "producer-" + p);
      t.start();
      producers.add(t);
    }
    for (Thread t : producers) {
      t.join();
    }
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      for (int k = 0; k < KEYS; k++) {
        assertEquals(version.get(k), handled.get(k), "key " + k + " was not handled after its last add");
      }
    });
    q.shutDownWithDrain();
    for (Thread t : workers) {
      t.join();
    }
    assertEquals(0, overlaps.get(), "an item was held by two workers at once");
    assertTrue(handlings.get() < PRODUCERS * ADDS_PER_PRODUCER, "duplicates collapse: " + handlings.get());
  }

  @Test
  void delayedItemsComeOutInOrderOfDueTime() throws Exception {
    RateLimitingQueue<Integer> q = WorkQueue.<Integer>builder().meterRegistry(null).build();
    int n = 300;
    long[] earliest = new long[n];
    long[] latest = new long[n];
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int i = 0; i < n; i++) {
      long delay = Duration.ofMillis(r.nextInt(1, 300)).toNanos() + r.nextInt(1_000_000);
      earliest[i] = System.nanoTime() + delay;
      q.addAfter(i, Duration.ofNanos(delay));
      latest[i] = System.nanoTime() + delay;
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(q.get());
    }
    assertEquals(n, Set.copyOf(order).size(), "each item once");
    for (int i = 1; i < n; i++) {
      int a = order.get(i - 1);
      int b = order.get(i);
      assertTrue(latest[b] - earliest[a] >= 0,
          "item " + b + " came after " + a + " although it was due before it");
    }
    q.shutDown();
  }
}
