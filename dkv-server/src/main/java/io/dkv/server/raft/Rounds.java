package io.dkv.server.raft;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Lets many linearizable reads share one ReadIndex round, as etcd's read loop does: a read that comes while a
 * round is on its way waits for the next one, which starts when that one ends and serves every read that came
 * meanwhile. A round is always started after each of its reads was called, so each read sees every write
 * committed before it began; one round at a time, so a burst of reads costs the leader one confirmation of its
 * leadership, not one each.
 */
final class Rounds<T> {

  private final Supplier<CompletableFuture<T>> round;
  private final Executor next;
  private CompletableFuture<T> joining;
  private boolean running;

  /**
   * @param round starts a round
   * @param next where the next round is started from when one ends (not from the thread that completed the
   *     round: Ratis's own)
   */
  Rounds(Supplier<CompletableFuture<T>> round, Executor next) {
    this.round = round;
    this.next = next;
  }

  /** Completes (or fails) as the first round that starts after this call does, with its result. */
  CompletableFuture<T> join() {
    CompletableFuture<T> mine;
    boolean start;
    synchronized (this) {
      if (joining == null) {
        joining = new CompletableFuture<>();
      }
      mine = joining;
      start = !running;
      running = true;
    }
    if (start) {
      run();
    }
    return mine;
  }

  private void run() {
    CompletableFuture<T> waiting;
    synchronized (this) {
      waiting = joining;
      joining = null;
    }
    CompletableFuture<T> r;
    try {
      r = round.get();
    } catch (RuntimeException e) {
      r = CompletableFuture.failedFuture(e);
    }
    r.whenComplete((v, e) -> {
      boolean again;
      synchronized (this) {
        again = joining != null;
        running = again;
      }
      if (again) {
        next.execute(this::run);
      }
      if (e != null) {
        waiting.completeExceptionally(e);
      } else {
        waiting.complete(v);
      }
    });
  }
}
