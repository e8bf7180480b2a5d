package io.dkv.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RoundsTest {

  @Test
  void aReadThatComesWhileARoundIsOnItsWayWaitsForTheNextRoundNotTheOneItMissed() {
    List<CompletableFuture<Void>> rounds = new ArrayList<>();
    Rounds<Void> r = new Rounds<>(() -> {
      CompletableFuture<Void> f = new CompletableFuture<>();
      rounds.add(f);
      return f;
    }, Runnable::run);
    CompletableFuture<Void> first = r.join();
    assertEquals(1, rounds.size(), "started at once");
    CompletableFuture<Void> second = r.join();
    CompletableFuture<Void> third = r.join();
    assertEquals(1, rounds.size(), "one round at a time");
    rounds.get(0).complete(null);
    assertTrue(first.isDone());
    assertTrue(!second.isDone() && !third.isDone(), "the first round began before they were called");
    assertEquals(2, rounds.size(), "the next round starts when the first ends, for both");
    rounds.get(1).complete(null);
    assertTrue(second.isDone() && third.isDone());
    CompletableFuture<Void> later = r.join();
    assertEquals(3, rounds.size(), "idle: a new read starts a round at once");
    IllegalStateException timeout = new IllegalStateException("timed out");
    rounds.get(2).completeExceptionally(timeout);
    try {
      later.join();
      throw new AssertionError("the round failed");
    } catch (CompletionException e) {
      assertSame(timeout, e.getCause());
    }
  }

  @Test
  void underConcurrentReadsEveryReadIsServedByARoundThatStartedAfterItWasCalled() throws Exception {
    AtomicLong clock = new AtomicLong();
    AtomicInteger roundsRun = new AtomicInteger();
    ExecutorService net = Executors.newFixedThreadPool(2);
    ExecutorService next = Executors.newSingleThreadExecutor();
    Rounds<Long> r = new Rounds<>(() -> {
      roundsRun.incrementAndGet();
      long startedAt = clock.incrementAndGet();
      return CompletableFuture.supplyAsync(() -> startedAt, net);
    }, next);
    int threads = 6;
    int each = 3_000;
    List<String> violations = Collections.synchronizedList(new ArrayList<>());
    ExecutorService readers = Executors.newFixedThreadPool(threads);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      all.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < each; i++) {
          long calledAt = clock.incrementAndGet();
          long roundStartedAt = r.join().join();
          if (roundStartedAt < calledAt) {
            violations.add("called at " + calledAt + ", served by a round started at " + roundStartedAt);
          }
        }
      }, readers));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    readers.shutdown();
    net.shutdown();
    next.shutdown();
    assertEquals(List.of(), violations);
    assertTrue(roundsRun.get() < threads * each, "rounds shared: " + roundsRun.get());
  }
}
