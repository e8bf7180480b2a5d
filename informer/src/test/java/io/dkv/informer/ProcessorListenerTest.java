package io.dkv.informer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProcessorListenerTest {

  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /** An executor that runs tasks only when told, so tests can let notifications pile up. */
  static final class ManualExecutor implements java.util.concurrent.Executor {
    final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable r) {
      tasks.add(r);
    }

    void runAll() {
      Runnable r;
      while ((r = poll()) != null) {
        r.run();
      }
    }

    private synchronized Runnable poll() {
      return tasks.poll();
    }
  }

  private static ProcessorListener<String> listener(Recorder r, java.util.concurrent.Executor e) {
    return new ProcessorListener<>(r, e, () -> true);
  }

  @Test
  void updatesOfOneKeyCoalesceIntoOneFromTheSeenStateToTheLatest() {
    ManualExecutor e = new ManualExecutor();
    Recorder r = new Recorder();
    ProcessorListener<String> d = listener(r, e);
    d.changed("a", null, "a|1", false, false);
    e.runAll();
    d.changed("a", "a|1", "a|2", false, false);
    d.changed("a", "a|2", "a|3", false, false);
    d.changed("b", null, "b|1", false, false);
    d.changed("a", "a|3", "a|4", false, false);
    assertEquals(2, d.backlog());
    e.runAll();
    assertEquals(List.of(new Recorder.Call("add", null, "a|1", false), new Recorder.Call("update", "a|1", "a|4", false),
        new Recorder.Call("add", null, "b|1", false)), r.calls());
    assertEquals(0, d.backlog());
  }

  @Test
  void addThenDeleteIsNothingAndDeleteThenAddIsBoth() {
    ManualExecutor e = new ManualExecutor();
    Recorder r = new Recorder();
    ProcessorListener<String> d = listener(r, e);
    d.changed("a", null, "a|1", false, false);
    d.changed("a", "a|1", null, false, false);
    d.changed("b", null, "b|1", false, false);
    e.runAll();
    assertEquals(List.of(new Recorder.Call("add", null, "b|1", false)), r.calls());
    r.clearCalls();
    d.changed("b", "b|1", "b|2", false, false);
    d.changed("b", "b|2", null, false, true);
    d.changed("b", null, "b|3", false, false);
    e.runAll();
    assertEquals(List.of(new Recorder.Call("delete", "b|2", null, true), new Recorder.Call("add", null, "b|3", false)),
        r.calls());
    assertEquals(List.of(), r.violations());
  }

  @Test
  void initialAddsCountTowardsHasSynced() {
    ManualExecutor e = new ManualExecutor();
    Recorder r = new Recorder();
    ProcessorListener<String> d = listener(r, e);
    d.changed("a", null, "a|1", true, false);
    d.changed("b", null, "b|1", true, false);
    d.changed("b", "b|1", null, false, false); // coalesced away: still counts as handed over
    assertFalse(d.hasSynced());
    e.runAll();
    assertTrue(d.hasSynced());
    assertEquals(1, r.initialAdds.get());
  }

  @Test
  void resyncRedeliversUnlessSomethingIsPending() {
    ManualExecutor e = new ManualExecutor();
    Recorder r = new Recorder();
    ProcessorListener<String> d = listener(r, e);
    d.changed("a", null, "a|1", false, false);
    d.resync("a", "a|1"); // pending already: nothing more
    e.runAll();
    d.resync("a", "a|1");
    e.runAll();
    assertEquals(List.of(new Recorder.Call("add", null, "a|1", false), new Recorder.Call("update", "a|1", "a|1", true)),
        r.calls());
  }

  @Test
  void removedDispatcherDropsWhatWaits() {
    ManualExecutor e = new ManualExecutor();
    Recorder r = new Recorder();
    ProcessorListener<String> d = listener(r, e);
    d.changed("a", null, "a|1", false, false);
    d.remove();
    e.runAll();
    d.changed("b", null, "b|1", false, false);
    e.runAll();
    assertEquals(List.of(), r.calls());
  }

  @Test
  void aSlowHandlerDelaysNobodyElseAndItsBacklogStaysWithinTheKeys() {
    CountDownLatch release = new CountDownLatch(1);
    Recorder blocked = new Recorder() {
      @Override
      public void onAdd(String object, boolean initial) {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        super.onAdd(object, initial);
      }
    };
    Recorder fast = new Recorder();
    ProcessorListener<String> slow = listener(blocked, pool);
    ProcessorListener<String> quick = listener(fast, pool);
    Map<String, String> state = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      String key = "k" + (i % 10);
      String next = key + "|" + i;
      String prev = state.put(key, next);
      slow.changed(key, prev, next, false, false);
      quick.changed(key, prev, next, false, false);
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(state, fast.current()));
    assertTrue(slow.backlog() <= 10, "backlog " + slow.backlog());
    release.countDown();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(state, blocked.current()));
    assertEquals(List.of(), blocked.violations());
  }

  @Test
  void randomHistoriesGiveOrderedSubsequencesEndingInTheLatestState() {
    Random random = new Random(42);
    Recorder slow = new Recorder() {
      @Override
      public void onUpdate(String before, String after) {
        LockSupport.parkNanos(20_000);
        super.onUpdate(before, after);
      }
    };
    Recorder fast = new Recorder();
    ProcessorListener<String> a = listener(slow, pool);
    ProcessorListener<String> b = listener(fast, pool);
    Map<String, String> state = new HashMap<>();
    Map<String, List<String>> history = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      String key = "k" + random.nextInt(20);
      String prev = state.get(key);
      String next = random.nextInt(4) == 0 ? null : key + "|" + i;
      if (prev == null && next == null) {
        continue;
      }
      if (next == null) {
        state.remove(key);
      } else {
        state.put(key, next);
      }
      history.computeIfAbsent(key, k -> new ArrayList<>()).add(next);
      boolean unknown = next == null && random.nextBoolean();
      a.changed(key, prev, next, false, unknown);
      b.changed(key, prev, next, false, unknown);
    }
    for (Recorder r : List.of(slow, fast)) {
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(state, r.current()));
      assertEquals(List.of(), r.violations());
      assertEquals(List.of(), r.notSubsequenceOf(history));
    }
  }
}
