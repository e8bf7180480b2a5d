package io.dkv.informer;

import io.dkv.client.DkvException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link Store} equal to a source: lists at a revision R, reconciles the store with the list (only true
 * differences reach the handlers), watches from R + 1 and applies the events in order. After a disconnect it
 * resumes the watch from the last revision it applied; it lists again only when that history is gone. Every
 * retry waits a backoff with full jitter. A watch that delivers nothing for the silence timeout is asked for a
 * bookmark at half of it and reopened at the end of it.
 *
 * <p>What an operator sees: one WARN line when the source stops answering (naming it and the cause), one INFO
 * line when it answers again (with the revision the watch resumed from); the failed attempts between them are
 * logged at DEBUG. {@link #lastError()} holds the last failure until the source answers again.
 *
 * <p>Every change to the store and its notifications happens with {@link #lock} held, so handlers learn of
 * changes in the order the store makes them.
 */
final class Reflector<T> implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(Reflector.class);

  private final String name;
  private final ListerWatcher<T> source;
  private final Store<T> store;
  private final SharedProcessor<T> out;
  private final UnaryOperator<T> transform;
  private final int pageSize;
  private final Backoff backoff;
  private final Duration silenceTimeout;
  private final ErrorHandler errorHandler;
  private final InformerMetrics metrics;
  private final Consumer<Throwable> onFatal;

  /** Serializes every change to the store and the notifications it causes. */
  final ReentrantLock lock = new ReentrantLock();
  private final CountDownLatch closing = new CountDownLatch(1);

  // guarded by lock
  /** The revision the store is complete up to. */
  private long revision;
  /** Events at or below it are already reflected (by a list or a bookmark). */
  private long floor;

  private volatile boolean synced;
  private volatile boolean watching;
  private volatile long serverRevision;
  private volatile Thread thread;

  /** The last failure of a list or watch, until the source answers again; null while healthy. */
  private volatile Throwable lastError;
  /** Set on the first failure of an outage, cleared (and logged) by the first answer after it. */
  private final AtomicBoolean lost = new AtomicBoolean();
  private volatile long lostAtNanos;
  private final AtomicInteger failedAttempts = new AtomicInteger();

  Reflector(String name, ListerWatcher<T> source, Store<T> store, SharedProcessor<T> out, UnaryOperator<T> transform,
      int pageSize, Backoff backoff, Duration silenceTimeout, ErrorHandler errorHandler, InformerMetrics metrics,
      Consumer<Throwable> onFatal) {
    this.name = name;
    this.source = source;
    this.store = store;
    this.out = out;
    this.transform = transform;
    this.pageSize = pageSize;
    this.backoff = backoff;
    this.silenceTimeout = silenceTimeout;
    this.errorHandler = errorHandler;
    this.metrics = metrics;
    this.onFatal = onFatal;
  }

  boolean synced() {
    return synced;
  }

  boolean watching() {
    return watching;
  }

  /** The last failure of a list or watch, as long as the source has not answered since. */
  Optional<Throwable> lastError() {
    return Optional.ofNullable(lastError);
  }

  /** The source's latest revision as far as known, minus the store's; never negative. */
  long lag() {
    return Math.max(0, serverRevision - store.revision());
  }

  void start() {
    Thread t = new Thread(this, "dkv-informer-" + name);
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  /** Stops the loop; waits a little for it to leave. */
  void stop() {
    closing.countDown();
    Thread t = thread;
    if (t != null && t != Thread.currentThread()) {
      t.interrupt();
      try {
        t.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private boolean closing() {
    return closing.getCount() == 0;
  }

  @Override
  public void run() {
    boolean needList = true;
    while (!closing()) {
      Throwable failure;
      try {
        if (needList) {
          listAndReconcile(false);
          needList = false;
          backoff.reset();
          answered("listed at revision " + revision());
        }
        failure = watchUntilEnd();
        if (closing()) {
          return;
        }
        metrics.watchRestart();
      } catch (RuntimeException e) {
        failure = e;
      } catch (InterruptedException e) {
        return;
      }
      if (closing()) {
        return;
      }
      if (failure instanceof HistoryGoneException gone) {
        log.info("informer {}: history gone ({}); listing again", name, gone.getMessage());
        needList = true;
      } else if (failure != null) {
        boolean retry;
        try {
          retry = errorHandler.shouldRetry(failure);
        } catch (RuntimeException e) {
          log.error("informer {}: the error handler threw; stopping", name, e);
          retry = false;
        }
        if (!retry) {
          lastError = failure;
          log.error("informer {}: stopping on {}", name, failure.toString());
          onFatal.accept(failure);
          return;
        }
        failed(failure, needList);
      }
      Duration delay = backoff.next();
      try {
        if (closing.await(delay.toNanos(), TimeUnit.NANOSECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Notes a failed list or watch: the first of an outage at WARN, the others at DEBUG. */
  private void failed(Throwable failure, boolean listing) {
    lastError = failure;
    int attempts = failedAttempts.incrementAndGet();
    if (failure instanceof TimeoutException) {
      log.debug("informer {}: {}; reopening the watch", name, failure.toString());
      return; // a silent watch: already logged, and the source may well be there
    }
    String what = listing ? (synced ? "listing again" : "listing") : "watching from revision " + revision();
    if (lost.compareAndSet(false, true)) {
      lostAtNanos = System.nanoTime();
      log.warn("informer {}: {} its source {}: {}; retrying ({})", name, synced ? "lost" : "cannot reach",
          source.description(), DkvException.describe(failure), what);
    } else {
      log.debug("informer {}: source {} still failing (attempt {}): {}; retrying ({})", name, source.description(),
          attempts, DkvException.describe(failure), what);
    }
  }

  /** Notes that the source answered: ends an outage (logged once, at INFO). */
  private void answered(String how) {
    int attempts = failedAttempts.getAndSet(0);
    lastError = null;
    if (lost.compareAndSet(true, false)) {
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lostAtNanos);
      log.info("informer {}: source {} answers again; {} (after {} failed attempt{} in {} ms)", name,
          source.description(), how, attempts, attempts == 1 ? "" : "s", ms);
    }
  }

  private long revision() {
    lock.lock();
    try {
      return revision;
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- list

  /**
   * Lists everything at one revision and reconciles the store with it. With {@code holdLock} the lock is held
   * while listing too (so no event can be applied meanwhile: used to repair drift while a watch runs).
   */
  void listAndReconcile(boolean holdLock) {
    if (holdLock) {
      lock.lock();
    }
    try {
      if (synced) {
        metrics.relist();
      }
      long at = 0;
      String continueFrom = null;
      Set<String> seen = new HashSet<>();
      List<Item<T>> changed = new ArrayList<>();
      do {
        Page<T> page = source.list(at, continueFrom, pageSize);
        if (at == 0) {
          at = page.revision();
        } else if (page.revision() != at) {
          throw new IllegalStateException("source " + source.description() + " returned a page at revision "
              + page.revision() + " in a list at revision " + at);
        }
        for (Item<T> item : page.items()) {
          seen.add(item.key());
          Store.Entry<T> cached = store.entry(item.key());
          if (cached == null || cached.revision() != item.revision()) {
            changed.add(new Item<>(item.key(), transform.apply(item.object()), item.revision()));
          }
        }
        continueFrom = page.continueFrom();
        if (closing()) {
          return;
        }
      } while (continueFrom != null);
      noteServerRevision(at);
      reconcile(at, seen, changed);
    } finally {
      if (holdLock) {
        lock.unlock();
      }
    }
  }

  private void reconcile(long at, Set<String> seen, List<Item<T>> changed) {
    lock.lock();
    try {
      if (at < floor) {
        log.debug("informer {}: list at {} is older than the cache ({}); dropped", name, at, floor);
        return;
      }
      boolean initial = !synced;
      store.batch(() -> {
        for (Item<T> item : changed) {
          Store.Entry<T> old = store.put(item.key(), item.object(), item.revision());
          out.changed(item.key(), old == null ? null : old.object(), item.object(), initial && old == null, false);
        }
        for (Map.Entry<String, Store.Entry<T>> e : store.entries()) {
          if (!seen.contains(e.getKey())) {
            store.remove(e.getKey(), at);
            out.changed(e.getKey(), e.getValue().object(), null, false, true);
          }
        }
        store.revision(at);
      });
      revision = at;
      floor = at;
      synced = true;
      metrics.synced();
      log.debug("informer {}: reconciled with a list at {}: {} changed, {} cached", name, at, changed.size(),
          store.size());
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- watch

  /** Opens a watch from the store's revision and waits for its end; returns why it ended (null: closed cleanly). */
  private Throwable watchUntilEnd() throws InterruptedException {
    long from = revision();
    Sink sink = new Sink(from);
    long opened = System.nanoTime();
    WatchHandle handle = source.watch(from, sink);
    watching = true;
    // no progress request now: sources say they are back by themselves (etcd: the watch's created response), and
    // etcd before 3.4.24 / 3.5.8 may answer a request on a watch still catching up with a bookmark ahead of the
    // events it has yet to send (etcd-io/etcd#15220)
    long silence = silenceTimeout.toNanos();
    long check = Math.max(TimeUnit.MILLISECONDS.toNanos(10), silence / 4);
    boolean progressRequested = false;
    try {
      while (true) {
        if (sink.ended.await(check, TimeUnit.NANOSECONDS)) {
          return sink.cause;
        }
        if (closing()) {
          return null;
        }
        long idle = System.nanoTime() - sink.lastActivity;
        if (idle >= silence) {
          log.warn("informer {}: the watch delivered nothing for {}; reopening it from revision {}", name,
              silenceTimeout, revision());
          return new TimeoutException("watch silent for " + silenceTimeout);
        }
        if (idle >= silence / 2) {
          if (!progressRequested) {
            progressRequested = handle.requestProgress();
          }
        } else {
          progressRequested = false;
        }
      }
    } finally {
      lock.lock();
      try {
        sink.dead = true;
      } finally {
        lock.unlock();
      }
      watching = false;
      handle.close();
      backoff.lived(System.nanoTime() - opened);
    }
  }

  private void noteServerRevision(long rev) {
    if (rev > serverRevision) {
      serverRevision = rev;
    }
  }

  /** The sink of one watch: applies its events under the lock, unless the watch was given up. */
  private final class Sink implements WatchSink<T> {
    final CountDownLatch ended = new CountDownLatch(1);
    volatile Throwable cause;
    volatile long lastActivity = System.nanoTime();
    boolean dead; // guarded by lock
    private final long from;
    private volatile boolean answered;

    Sink(long from) {
      this.from = from;
    }

    /** The watch's first sign of life after an outage ends it. */
    private void alive() {
      if (!answered && ended.getCount() > 0) {
        answered = true;
        if (lost.get() || failedAttempts.get() > 0) {
          answered("watching from revision " + from);
        }
      }
    }

    @Override
    public void event(Event<T> event) {
      lastActivity = System.nanoTime();
      alive();
      lock.lock();
      try {
        if (dead) {
          return;
        }
        apply(event);
      } finally {
        lock.unlock();
      }
    }

    /** Applies all the events at once: readers see a transaction whole or not at all. */
    @Override
    public void events(List<Event<T>> events) {
      lastActivity = System.nanoTime();
      alive();
      lock.lock();
      try {
        if (dead) {
          return;
        }
        store.batch(() -> {
          for (Event<T> e : events) {
            apply(e);
          }
        });
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void serverRevision(long rev) {
      alive();
      noteServerRevision(rev);
    }

    @Override
    public void closed(Throwable c) {
      cause = c;
      ended.countDown();
    }
  }

  /** Applies one event; called with the lock held. */
  private void apply(Event<T> e) {
    long rev = e.revision();
    if (e.type() == Event.Type.BOOKMARK) {
      noteServerRevision(rev);
      if (rev > revision) {
        revision = rev;
        floor = rev;
        store.revision(rev);
      }
      metrics.event(e.type());
      return;
    }
    if (rev <= floor || rev < revision) {
      return; // already reflected by a list, a bookmark or an earlier event
    }
    metrics.event(e.type());
    noteServerRevision(rev);
    if (e.type() == Event.Type.DELETED) {
      Store.Entry<T> old = store.remove(e.key(), rev);
      if (old != null) {
        out.changed(e.key(), old.object(), null, false, false);
      }
    } else {
      if (e.object() == null) {
        log.error("informer {}: source {} sent {} of {} without an object; ignored", name, source.description(),
            e.type(), e.key());
        return;
      }
      T object = transform.apply(e.object());
      Store.Entry<T> old = store.put(e.key(), object, rev);
      out.changed(e.key(), old == null ? null : old.object(), object, false, false);
    }
    revision = rev;
  }
}
