package io.dkv.resources;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one watch's callbacks in order, one at a time, off jetcd's threads (closing a jetcd watch from its own
 * thread deadlocks). After {@link #close()} returns no callback runs; close may be called from a callback.
 */
final class SerialDelivery {
  private static final Logger log = LoggerFactory.getLogger(SerialDelivery.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "dkv-resources-watch-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final ReentrantLock running = new ReentrantLock();
  private volatile boolean closed;

  void submit(Runnable callback) {
    if (closed) {
      return;
    }
    queue.add(callback);
    schedule();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      POOL.execute(this::drain);
    }
  }

  private void drain() {
    running.lock();
    try {
      Runnable r;
      while (!closed && (r = queue.poll()) != null) {
        try {
          r.run();
        } catch (RuntimeException e) {
          log.error("a watch callback failed", e);
        }
      }
    } finally {
      running.unlock();
      scheduled.set(false);
    }
    if (!closed && !queue.isEmpty()) {
      schedule();
    }
  }

  boolean isClosed() {
    return closed;
  }

  /** Stops delivery; waits for a callback under way on another thread. */
  void close() {
    closed = true;
    if (!running.isHeldByCurrentThread()) {
      running.lock();
      running.unlock();
    }
    queue.clear();
  }
}
