package io.dkv.controller;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work queue: a FIFO with a dirty set (queued or to be re-queued, with the time of the add) and a
 * processing set (handed out, with the time it was handed out), plus a heap of delayed items served by one
 * timer thread, started on the first delayed add.
 */
final class DefaultWorkQueue<T> implements RateLimitingQueue<T> {

  private static final Logger log = LoggerFactory.getLogger(DefaultWorkQueue.class);

  private final String name;
  private final RateLimiter<T> rateLimiter;
  private final QueueMetrics metrics;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final Condition idle = lock.newCondition();
  private final ArrayDeque<T> queue = new ArrayDeque<>();
  private final HashMap<T, Long> dirty = new HashMap<>();
  private final HashMap<T, Long> processing = new HashMap<>();
  private boolean shuttingDown;

  private final ReentrantLock timerLock = new ReentrantLock();
  private final Condition timerWake = timerLock.newCondition();
  private final PriorityQueue<Waiting<T>> waiting = new PriorityQueue<>();
  private final HashMap<T, Waiting<T>> waitingByItem = new HashMap<>();
  private long waitingSeq;
  private Thread timer;
  private boolean timerStopped;

  DefaultWorkQueue(String name, RateLimiter<T> rateLimiter, MeterRegistry registry) {
    this.name = name;
    this.rateLimiter = Objects.requireNonNull(rateLimiter, "rateLimiter");
    this.metrics = QueueMetrics.register(registry, name, this);
  }

  @Override
  public void add(T item) {
    Objects.requireNonNull(item, "item");
    lock.lock();
    try {
      if (shuttingDown || dirty.containsKey(item)) {
        return;
      }
      if (metrics != null) {
        metrics.added();
      }
      dirty.put(item, System.nanoTime());
      if (processing.containsKey(item)) {
        return; // queued again by done()
      }
      queue.addLast(item);
      notEmpty.signal();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public T get() throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (queue.isEmpty() && !shuttingDown) {
        notEmpty.await();
      }
      if (shuttingDown) {
        return null;
      }
      T item = queue.pollFirst();
      long now = System.nanoTime();
      Long added = dirty.remove(item);
      if (metrics != null && added != null) {
        metrics.waited(now - added);
      }
      processing.put(item, now);
      return item;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void done(T item) {
    Objects.requireNonNull(item, "item");
    lock.lock();
    try {
      Long started = processing.remove(item);
      if (started == null) {
        return; // not handed out: nothing to do, as in client-go
      }
      if (metrics != null) {
        metrics.worked(System.nanoTime() - started);
      }
      if (dirty.containsKey(item) && !shuttingDown) {
        queue.addLast(item);
        notEmpty.signal();
      }
      if (processing.isEmpty()) {
        idle.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int len() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void shutDown() {
    lock.lock();
    try {
      shuttingDown = true;
      queue.clear();
      dirty.clear();
      notEmpty.signalAll();
    } finally {
      lock.unlock();
    }
    stopTimer();
  }

  @Override
  public void shutDownWithDrain() throws InterruptedException {
    shutDown();
    lock.lockInterruptibly();
    try {
      while (!processing.isEmpty()) {
        idle.await();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean isShuttingDown() {
    lock.lock();
    try {
      return shuttingDown;
    } finally {
      lock.unlock();
    }
  }

  // ---- delaying

  @Override
  public void addAfter(T item, Duration delay) {
    Objects.requireNonNull(item, "item");
    Objects.requireNonNull(delay, "delay");
    if (delay.isZero() || delay.isNegative()) {
      add(item);
      return;
    }
    long due = System.nanoTime() + delay.toNanos();
    timerLock.lock();
    try {
      if (timerStopped) {
        return;
      }
      Waiting<T> existing = waitingByItem.get(item);
      if (existing != null) {
        if (existing.due - due <= 0) {
          return; // already due no later
        }
        waiting.remove(existing);
      }
      Waiting<T> w = new Waiting<>(item, due, waitingSeq++);
      waitingByItem.put(item, w);
      waiting.add(w);
      if (timer == null) {
        timer = new Thread(this::timerLoop, "workqueue-" + name + "-timer");
        timer.setDaemon(true);
        timer.start();
      }
      if (waiting.peek() == w) {
        timerWake.signal();
      }
    } finally {
      timerLock.unlock();
    }
  }

  private void timerLoop() {
    List<T> due = new ArrayList<>();
    while (true) {
      timerLock.lock();
      try {
        while (!timerStopped) {
          Waiting<T> head = waiting.peek();
          long now = System.nanoTime();
          if (head != null && head.due - now <= 0) {
            break;
          }
          if (head == null) {
            timerWake.await();
          } else {
            timerWake.awaitNanos(head.due - now);
          }
        }
        if (timerStopped) {
          return;
        }
        long now = System.nanoTime();
        while (!waiting.isEmpty() && waiting.peek().due - now <= 0) {
          Waiting<T> w = waiting.poll();
          waitingByItem.remove(w.item);
          due.add(w.item);
        }
      } catch (InterruptedException e) {
        log.debug("timer of work queue {} interrupted", name);
        return;
      } finally {
        timerLock.unlock();
      }
      for (T item : due) {
        add(item);
      }
      due.clear();
    }
  }

  private void stopTimer() {
    timerLock.lock();
    try {
      timerStopped = true;
      waiting.clear();
      waitingByItem.clear();
      timerWake.signalAll();
    } finally {
      timerLock.unlock();
    }
  }

  private record Waiting<T>(T item, long due, long seq) implements Comparable<Waiting<T>> {
    @Override
    public int compareTo(Waiting<T> o) {
      int c = Long.compare(due - o.due, 0);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  // ---- rate limiting

  @Override
  public void addRateLimited(T item) {
    Objects.requireNonNull(item, "item");
    if (metrics != null && !isShuttingDown()) {
      metrics.retried();
    }
    addAfter(item, rateLimiter.when(item));
  }

  @Override
  public void forget(T item) {
    rateLimiter.forget(item);
  }

  @Override
  public int numRequeues(T item) {
    return rateLimiter.numRequeues(item);
  }

  // ---- gauges

  double unfinishedWorkSeconds() {
    lock.lock();
    try {
      long now = System.nanoTime();
      long total = 0;
      for (long started : processing.values()) {
        total += now - started;
      }
      return total / (double) TimeUnit.SECONDS.toNanos(1);
    } finally {
      lock.unlock();
    }
  }

  double longestRunningSeconds() {
    lock.lock();
    try {
      long now = System.nanoTime();
      long longest = 0;
      for (long started : processing.values()) {
        longest = Math.max(longest, now - started);
      }
      return longest / (double) TimeUnit.SECONDS.toNanos(1);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "WorkQueue[" + name + "]";
  }
}
