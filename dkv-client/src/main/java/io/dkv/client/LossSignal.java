package io.dkv.client;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Tells once that something held (a lease, a leadership) is lost: a future and listeners, each run once. */
final class LossSignal {

  private static final Logger log = LoggerFactory.getLogger(LossSignal.class);

  private final CompletableFuture<Void> lost = new CompletableFuture<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  boolean isLost() {
    return lost.isDone();
  }

  /** Completes when lost; completing the copy changes nothing here. */
  CompletableFuture<Void> future() {
    return lost.copy();
  }

  /** Runs {@code listener} when lost (at once if it already is), once. */
  void onLost(Runnable listener) {
    listeners.add(listener);
    if (lost.isDone() && listeners.remove(listener)) {
      listener.run();
    }
  }

  /** Signals the loss; false if it was signalled before. */
  boolean fire() {
    if (!lost.complete(null)) {
      return false;
    }
    for (Runnable l : listeners) {
      if (listeners.remove(l)) {
        try {
          l.run();
        } catch (RuntimeException e) {
          log.error("loss listener threw", e);
        }
      }
    }
    return true;
  }
}
