package io.dkv.informer;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One handler's queue of notifications and the task that hands them over, one at a time, on a thread of a
 * shared pool (so a slow handler holds only its own thread); client-go's processorListener.
 *
 * <p>Notifications wait per key: while one is pending for a key, later changes of that key merge into it,
 * so the backlog never exceeds the number of keys and the handler sees, per key, an ordered subsequence of the
 * key's states ending with the latest. A pending entry remembers the state the handler last saw
 * ({@code before}), the newest state ({@code after}) and whether the key was deleted in between; it is handed
 * over as the one or two calls that lead from the first to the second.
 */
final class ProcessorListener<T> implements HandlerRegistration {

  private static final Logger log = LoggerFactory.getLogger(ProcessorListener.class);

  /** What is pending for one key. */
  private static final class Pending<T> {
    final T before;
    T after;
    T deleted;
    boolean finalStateUnknown;
    boolean initial;

    Pending(T before) {
      this.before = before;
    }
  }

  private final ResourceEventHandler<T> handler;
  private final Executor pool;
  private final BooleanSupplier informerSynced;
  private final LinkedHashMap<String, Pending<T>> pending = new LinkedHashMap<>();
  private boolean draining;
  private boolean removed;
  private int initialPending;

  ProcessorListener(ResourceEventHandler<T> handler, Executor pool, BooleanSupplier informerSynced) {
    this.handler = handler;
    this.pool = pool;
    this.informerSynced = informerSynced;
  }

  /** The key went from {@code from} to {@code to} (either may be null: absent). */
  void changed(String key, T from, T to, boolean initial, boolean finalStateUnknown) {
    synchronized (pending) {
      if (removed) {
        return;
      }
      Pending<T> p = pending.get(key);
      if (p == null) {
        p = new Pending<>(from);
        p.initial = initial;
        if (initial) {
          initialPending++;
        }
        pending.put(key, p);
      }
      p.after = to;
      if (to == null) {
        p.deleted = from;
        p.finalStateUnknown = finalStateUnknown;
      }
      schedule();
    }
  }

  /** Re-delivers {@code object} as {@code onUpdate(object, object)} unless a notification for the key waits. */
  void resync(String key, T object) {
    synchronized (pending) {
      if (removed || pending.containsKey(key)) {
        return;
      }
      Pending<T> p = new Pending<>(object);
      p.after = object;
      pending.put(key, p);
      schedule();
    }
  }

  private void schedule() {
    if (draining || pending.isEmpty()) {
      return;
    }
    draining = true;
    try {
      pool.execute(this::drain);
    } catch (RejectedExecutionException closed) {
      draining = false;
    }
  }

  private void drain() {
    while (true) {
      Pending<T> p;
      synchronized (pending) {
        Iterator<Map.Entry<String, Pending<T>>> it = pending.entrySet().iterator();
        if (removed || !it.hasNext()) {
          draining = false;
          return;
        }
        p = it.next().getValue();
        it.remove();
      }
      try {
        deliver(p);
      } finally {
        if (p.initial) {
          synchronized (pending) {
            initialPending--;
          }
        }
      }
    }
  }

  private void deliver(Pending<T> p) {
    try {
      if (p.before == null) {
        if (p.after != null) {
          handler.onAdd(p.after, p.initial);
        }
      } else if (p.after == null) {
        handler.onDelete(p.deleted, p.finalStateUnknown);
      } else if (p.deleted != null) {
        handler.onDelete(p.deleted, p.finalStateUnknown);
        handler.onAdd(p.after, false);
      } else {
        handler.onUpdate(p.before, p.after);
      }
    } catch (RuntimeException e) {
      log.error("event handler {} threw; it keeps receiving notifications", handler, e);
    }
  }

  /** Stops handing over notifications and drops the pending ones. */
  void remove() {
    synchronized (pending) {
      removed = true;
      pending.clear();
      initialPending = 0;
    }
  }

  @Override
  public boolean hasSynced() {
    if (!informerSynced.getAsBoolean()) {
      return false;
    }
    synchronized (pending) {
      return initialPending == 0;
    }
  }

  @Override
  public int backlog() {
    synchronized (pending) {
      return pending.size();
    }
  }
}
