package io.dkv.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BatcherTest {

  /** A log that hands entries to the test to complete, recording each entry's commands. */
  private static final class FakeLog {
    final List<List<ByteString>> entries = new ArrayList<>();
    final List<CompletableFuture<List<ByteString>>> replies = new ArrayList<>();

    synchronized CompletableFuture<List<ByteString>> send(List<ByteString> commands) {
      entries.add(List.copyOf(commands));
      CompletableFuture<List<ByteString>> f = new CompletableFuture<>();
      replies.add(f);
      return f;
    }

    /** Commits entry i: each command's answer will be the command with "!" appended. */
    void answer(int i) {
      CompletableFuture<List<ByteString>> f;
      List<ByteString> cmds;
      synchronized (this) {
        f = replies.get(i);
        cmds = entries.get(i);
      }
      f.complete(cmds);
    }
  }

  /** Answers applied at once: each command with "!" appended. */
  private static CompletableFuture<List<ByteString>> exclaimed(List<ByteString> commands, List<ByteString> reply) {
    return CompletableFuture.completedFuture(reply.stream().map(c -> c.concat(ByteString.copyFromUtf8("!"))).toList());
  }

  private static Batcher<List<ByteString>> batcher(FakeLog log, int inFlight, int maxBytes) {
    return new Batcher<>(log::send, BatcherTest::exclaimed, Runnable::run, inFlight, maxBytes);
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  @Test
  void aCommandAloneIsSentAtOnceAndTheOnesThatComeWhileThePipelineIsFullShareTheNextEntry() {
    FakeLog log = new FakeLog();
    Batcher<List<ByteString>> b = batcher(log, 1, 1 << 20);
    CompletableFuture<ByteString> a = b.submit(bs("a"));
    assertEquals(List.of(List.of(bs("a"))), log.entries, "sent alone, without waiting");
    CompletableFuture<ByteString> x = b.submit(bs("b"));
    CompletableFuture<ByteString> y = b.submit(bs("c"));
    assertEquals(1, log.entries.size(), "the pipeline is full: b and c wait");
    log.answer(0);
    assertEquals(bs("a!"), a.join());
    assertEquals(List.of(bs("b"), bs("c")), log.entries.get(1), "b and c in one entry, in order");
    assertTrue(!x.isDone());
    log.answer(1);
    assertEquals(bs("b!"), x.join());
    assertEquals(bs("c!"), y.join());
  }

  @Test
  void anEntryStopsGrowingAtItsByteLimitButACommandLargerThanTheLimitStillGoesAlone() {
    FakeLog log = new FakeLog();
    Batcher<List<ByteString>> b = batcher(log, 1, 10);
    b.submit(bs("first"));
    b.submit(bs("123456"));
    b.submit(bs("7890"));
    b.submit(bs("x"));
    b.submit(bs("a-command-of-20-bytes"));
    log.answer(0);
    assertEquals(List.of(bs("123456"), bs("7890")), log.entries.get(1));
    log.answer(1);
    assertEquals(List.of(bs("x")), log.entries.get(2));
    log.answer(2);
    assertEquals(List.of(bs("a-command-of-20-bytes")), log.entries.get(3));
  }

  @Test
  void aCommittedEntryFreesItsPlaceBeforeThisMemberAppliedIt() {
    FakeLog log = new FakeLog();
    CompletableFuture<Void> appliedHere = new CompletableFuture<>();
    Batcher<List<ByteString>> b = new Batcher<>(log::send,
        (cmds, reply) -> appliedHere.thenCompose(v -> exclaimed(cmds, reply)), Runnable::run, 1, 1 << 20);
    CompletableFuture<ByteString> a = b.submit(bs("a"));
    CompletableFuture<ByteString> x = b.submit(bs("b"));
    log.answer(0); // committed; this member lags and has not applied it
    assertEquals(List.of(bs("b")), log.entries.get(1), "the next entry went without waiting for the apply");
    assertTrue(!a.isDone(), "answered only once applied here");
    log.answer(1);
    appliedHere.complete(null);
    assertEquals(bs("a!"), a.join());
    assertEquals(bs("b!"), x.join());
  }

  @Test
  void entriesAreProposedFromTheSenderNeverFromTheThreadThatSubmittedOrCommitted() {
    FakeLog log = new FakeLog();
    List<Runnable> handedOff = new ArrayList<>();
    Batcher<List<ByteString>> b = new Batcher<>(log::send, BatcherTest::exclaimed, handedOff::add, 1, 1 << 20);
    CompletableFuture<ByteString> a = b.submit(bs("a"));
    assertEquals(0, log.entries.size(), "not proposed from the submitting thread (a gRPC event loop)");
    handedOff.get(0).run();
    assertEquals(List.of(List.of(bs("a"))), log.entries);
    b.submit(bs("b"));
    assertEquals(1, handedOff.size(), "the pipeline is full: b waits");
    log.answer(0); // on "Ratis's" thread: it must not call the log again
    assertEquals(bs("a!"), a.join());
    assertEquals(1, log.entries.size(), "b not proposed from the committing thread");
    assertEquals(2, handedOff.size());
    handedOff.get(1).run();
    assertEquals(List.of(bs("b")), log.entries.get(1));
  }

  @Test
  void aStoppedSenderFailsTheCommandsInsteadOfLosingThem() {
    FakeLog log = new FakeLog();
    Batcher<List<ByteString>> b = new Batcher<>(log::send, BatcherTest::exclaimed, r -> {
      throw new java.util.concurrent.RejectedExecutionException("stopped");
    }, 1, 1 << 20);
    assertEquals("stopped", cause(b.submit(bs("a"))).getMessage());
    assertEquals("stopped", cause(b.submit(bs("b"))).getMessage(), "the place was freed again");
  }

  @Test
  void aFailedEntryFailsEachOfItsCommandsAndTheNextEntryStillGoes() {
    FakeLog log = new FakeLog();
    Batcher<List<ByteString>> b = batcher(log, 1, 1 << 20);
    b.submit(bs("a"));
    CompletableFuture<ByteString> x = b.submit(bs("b"));
    CompletableFuture<ByteString> y = b.submit(bs("c"));
    log.answer(0);
    IllegalStateException boom = new IllegalStateException("boom");
    log.replies.get(1).completeExceptionally(boom);
    assertSame(boom, cause(x));
    assertSame(boom, cause(y));
    CompletableFuture<ByteString> z = b.submit(bs("d"));
    assertEquals(List.of(bs("d")), log.entries.get(2));
    log.answer(2);
    assertEquals(bs("d!"), z.join());
  }

  @Test
  void aSendThatThrowsFailsItsCommandsAndFreesThePipeline() {
    AtomicInteger calls = new AtomicInteger();
    Batcher<List<ByteString>> b = new Batcher<>(cmds -> {
      if (calls.getAndIncrement() == 0) {
        throw new IllegalStateException("closed");
      }
      return CompletableFuture.completedFuture(cmds);
    }, (cmds, reply) -> CompletableFuture.completedFuture(reply), Runnable::run, 1, 1 << 20);
    assertEquals("closed", cause(b.submit(bs("a"))).getMessage());
    assertEquals(bs("b"), b.submit(bs("b")).join());
  }

  @Test
  void underConcurrentProposersEveryCommandIsAnsweredOnceWithItsOwnAnswerAndEntriesRespectTheLimit()
      throws Exception {
    int inFlight = 3;
    ExecutorService log = Executors.newFixedThreadPool(4);
    AtomicInteger onTheirWay = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    ConcurrentLinkedQueue<List<ByteString>> entries = new ConcurrentLinkedQueue<>();
    ExecutorService next = Executors.newSingleThreadExecutor();
    Batcher<List<ByteString>> b = new Batcher<>(cmds -> {
      most.accumulateAndGet(onTheirWay.incrementAndGet(), Math::max);
      entries.add(List.copyOf(cmds));
      return CompletableFuture.supplyAsync(() -> {
        onTheirWay.decrementAndGet();
        return List.copyOf(cmds);
      }, log);
    }, (cmds, reply) -> CompletableFuture.supplyAsync(() -> exclaimed(cmds, reply).join(), log), next, inFlight,
        1 << 20);
    int threads = 8;
    int each = 2_000;
    ExecutorService proposers = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      all.add(CompletableFuture.runAsync(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        List<CompletableFuture<ByteString>> mine = new ArrayList<>();
        for (int i = 0; i < each; i++) {
          mine.add(b.submit(bs(thread + "/" + i)));
        }
        for (int i = 0; i < each; i++) {
          assertEquals(bs(thread + "/" + i + "!"), mine.get(i).join());
        }
      }, proposers));
    }
    go.countDown();
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    proposers.shutdown();
    log.shutdown();
    next.shutdown();
    assertTrue(most.get() <= inFlight, "at most " + inFlight + " entries on their way, saw " + most.get());
    assertEquals(threads * each, entries.stream().mapToInt(List::size).sum(), "each command in exactly one entry");
    // each proposer's commands reach the log in the order it proposed them
    for (int t = 0; t < threads; t++) {
      String prefix = t + "/";
      List<Integer> order = entries.stream().flatMap(List::stream).map(ByteString::toStringUtf8)
          .filter(s -> s.startsWith(prefix)).map(s -> Integer.parseInt(s.substring(prefix.length()))).toList();
      for (int i = 0; i < order.size(); i++) {
        assertEquals(i, order.get(i));
      }
    }
  }

  private static Throwable cause(CompletableFuture<?> f) {
    try {
      f.join();
    } catch (CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("completed normally");
  }
}
