package io.dkv.client;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on threads of a shared executor: at most one task of this
 * executor runs at any moment, and each starts after the previous one ended (so a task sees everything the
 * previous ones did). A task that throws is logged and the next one runs. After {@link #close()} returns no task
 * runs or starts, and tasks submitted later are dropped. When the shared executor rejects the work (it is shut
 * down), the pending tasks are dropped and this executor is closed.
 *
 * <p>The one serial executor of the project: each watch of {@link ListWatch} delivers through one.
 */
final class SerialExecutor implements Executor {
  private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

  private final Executor backing;
  private final String name;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private boolean running;
  /** The thread running a task now, or null; guarded by tasks. */
  private Thread runner;
  private volatile boolean closed;

  /** @param name what the tasks are, for the log line of a task that throws */
  SerialExecutor(Executor backing, String name) {
    this.backing = backing;
    this.name = name;
  }

  @Override
  public void execute(Runnable task) {
    synchronized (tasks) {
      if (closed) {
        return;
      }
      tasks.add(task);
      if (running) {
        return;
      }
      running = true;
    }
    try {
      backing.execute(this::drain);
    } catch (RejectedExecutionException rejected) {
      synchronized (tasks) {
        running = false;
        closed = true;
        tasks.clear();
      }
    }
  }

  private void drain() {
    while (true) {
      Runnable next;
      synchronized (tasks) {
        next = closed ? null : tasks.poll();
        if (next == null) {
          running = false;
          return;
        }
        runner = Thread.currentThread(); // checked and marked together: close() waits for this task
      }
      try {
        next.run();
      } catch (Throwable e) { // an Error too: the next tasks must still run
        log.error("{}: a task threw; the next ones still run", name, e);
      } finally {
        synchronized (tasks) {
          runner = null;
          tasks.notifyAll();
        }
      }
    }
  }

  /**
   * Starts no more tasks and drops the pending ones. When it returns no task is running, except the caller's
   * own: called from a task, it returns at once (that task finishes); called from another thread, it waits for
   * the task running there to end, so do not call it holding a lock the tasks need. Idempotent.
   */
  void close() {
    boolean interrupted = false;
    synchronized (tasks) {
      closed = true;
      tasks.clear();
      while (runner != null && runner != Thread.currentThread()) {
        try {
          tasks.wait();
        } catch (InterruptedException e) {
          interrupted = true; // keep waiting: the promise is that nothing runs once this returns
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  boolean isClosed() {
    return closed;
  }
}
