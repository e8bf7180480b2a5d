package io.dkv.client;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A self-resuming watch over a {@link ListWatch}: it remembers the revision up to which it delivered, and after
 * any error opens a new watch from that revision + 1 (after a backoff with jitter). Events at or below that
 * revision are dropped, so nothing is delivered twice.
 *
 * <p>Logs: one WARN line when the watch loses its server (naming the key and the cause), one INFO line when it
 * is back (with the revision it resumed from); the failed attempts in between at DEBUG.
 */
final class Watcher<T> implements Subscription {

  private static final Logger log = LoggerFactory.getLogger(Watcher.class);
  private static final int SNAPSHOT_PAGE = 1000;

  private final DkvClient client;
  private final String what;
  private final ListWatch<T> source;
  private final WatchOptions options;
  private final WatchHandler<T> handler;
  /** What the handler knows, kept only to report the difference after a compaction. */
  private final Map<String, Versioned<T>> known;

  private final Object lock = new Object();
  private boolean closed;
  private boolean suspended;
  private long revision;
  private int generation;
  private int failures;
  /** Since the first failure of an outage, until a watch is set up again. */
  private boolean lost;
  private ListWatch.Watch current;

  private Watcher(DkvClient client, String key, boolean prefix, Codec<T> codec, WatchOptions options,
      WatchHandler<T> handler) {
    this.client = client;
    this.what = (prefix ? "prefix '" : "key '") + key + "'";
    this.source = (prefix ? ListWatch.prefix(client, key, codec) : ListWatch.key(client, key, codec))
        .previousValues(true).build();
    this.options = options;
    this.handler = handler;
    this.known = options.resnapshotOnCompaction() ? new LinkedHashMap<>() : null;
  }

  static <T> Watcher<T> start(DkvClient client, String key, boolean prefix, Codec<T> codec, WatchOptions options,
      WatchHandler<T> handler) {
    Watcher<T> w = new Watcher<>(client, key, prefix, codec, options, handler);
    synchronized (w.lock) {
      if (options.initialSnapshot()) {
        ListWatch.Page<T> snapshot = w.source.listAll(SNAPSHOT_PAGE);
        w.revision = snapshot.revision();
        w.remember(snapshot.items());
        w.safely(() -> handler.onSnapshot(snapshot.items(), w.revision));
      } else if (options.startRevision() > 0) {
        w.revision = options.startRevision() - 1;
        if (w.known != null) {
          w.remember(w.source.listAll(SNAPSHOT_PAGE).items());
        }
      } else if (w.known != null) {
        ListWatch.Page<T> now = w.source.listAll(SNAPSHOT_PAGE);
        w.revision = now.revision();
        w.remember(now.items());
      } else {
        w.revision = w.source.currentRevision();
      }
      w.open();
    }
    return w;
  }

  private void remember(List<Versioned<T>> values) {
    if (known != null) {
      known.clear();
      for (Versioned<T> v : values) {
        known.put(v.key(), v);
      }
    }
  }

  /** Opens a watch from revision + 1; call with the lock held. */
  private void open() {
    if (closed || suspended) {
      return;
    }
    int gen = ++generation;
    current = source.watch(revision, new ListWatch.Sink<>() {
      @Override
      public void changes(List<ListWatch.Change<T>> changes, long serverRevision) {
        onChanges(gen, changes);
      }

      @Override
      public void created(long serverRevision) {
        onCreated(gen);
      }

      @Override
      public void historyGone(long compactRevision) {
        onCompacted(gen, compactRevision);
      }

      @Override
      public void closed(Throwable cause) {
        onError(gen, cause == null ? new DkvException("the server ended the watch") : cause);
      }
    });
  }

  private void onCreated(int gen) {
    synchronized (lock) {
      if (closed || gen != generation) {
        return;
      }
      failures = 0;
      if (lost) {
        lost = false;
        log.info("watch on {} is back: resumed from revision {}", what, revision + 1);
      }
    }
  }

  private void onChanges(int gen, List<ListWatch.Change<T>> changes) {
    synchronized (lock) {
      if (closed || gen != generation) {
        return;
      }
      long last = revision;
      for (ListWatch.Change<T> c : changes) {
        long rev = c.revision();
        if (rev <= revision) {
          continue; // already delivered before a resume
        }
        last = Math.max(last, rev);
        T previous = c.previous() == null ? null : c.previous().value();
        WatchEvent<T> event;
        if (c.type() == ListWatch.Change.Type.DELETED) {
          event = new WatchEvent<>(WatchEvent.Type.DELETE, c.key(), null, previous, rev);
          if (known != null) {
            known.remove(c.key());
          }
        } else {
          event = new WatchEvent<>(WatchEvent.Type.PUT, c.key(), c.value().value(), previous, rev);
          if (known != null) {
            known.put(c.key(), c.value());
          }
        }
        safely(() -> handler.onEvent(event));
      }
      revision = last;
    }
  }

  private void onError(int gen, Throwable t) {
    synchronized (lock) {
      if (closed || gen != generation) {
        return;
      }
      generation++; // ignore whatever the failed watch still says
      closeCurrent();
      if (!lost) {
        lost = true;
        log.warn("watch on {} lost its server ({}); resuming from revision {} once it is back", what,
            DkvException.describe(t), revision + 1);
      } else {
        log.debug("watch on {}: attempt to resume from revision {} failed: {}", what, revision + 1,
            DkvException.describe(t));
      }
      retryLater(this::open);
    }
  }

  private void onCompacted(int gen, long compactRevision) {
    synchronized (lock) {
      if (closed || gen != generation) {
        return;
      }
      generation++;
      closeCurrent();
      compacted(compactRevision);
    }
  }

  /** Call with the lock held. */
  private void compacted(long compactRevision) {
    if (known == null) {
      log.warn("watch on {}: history compacted up to {}; changes after {} may be missed", what, compactRevision,
          revision);
      revision = Math.max(revision, compactRevision - 1);
      safely(() -> handler.onCompacted(compactRevision, List.of()));
      open();
      return;
    }
    try {
      // the snapshot is read without the lock (close() must not wait for a read), then applied under it
      client.callbacks().execute(() -> {
        ListWatch.Page<T> snapshot;
        try {
          snapshot = source.listAll(SNAPSHOT_PAGE);
        } catch (RuntimeException e) {
          synchronized (lock) {
            if (!closed) {
              log.debug("watch on {}: reading a snapshot after a compaction failed: {}", what, e.toString());
              retryLater(() -> compacted(compactRevision));
            }
          }
          return;
        }
        synchronized (lock) {
          if (closed) {
            return;
          }
          List<WatchEvent<T>> diff = difference(snapshot.items(), snapshot.revision());
          revision = snapshot.revision();
          safely(() -> handler.onCompacted(compactRevision, diff));
          open();
        }
      });
    } catch (RejectedExecutionException clientClosed) {
      closed = true;
    }
  }

  private List<WatchEvent<T>> difference(List<Versioned<T>> now, long at) {
    List<WatchEvent<T>> diff = new ArrayList<>();
    Map<String, Versioned<T>> gone = new LinkedHashMap<>(known);
    for (Versioned<T> v : now) {
      Versioned<T> before = gone.remove(v.key());
      if (before == null || before.modRevision() != v.modRevision()) {
        diff.add(new WatchEvent<>(WatchEvent.Type.PUT, v.key(), v.value(), before == null ? null : before.value(),
            at));
      }
    }
    for (Versioned<T> v : gone.values()) {
      diff.add(new WatchEvent<>(WatchEvent.Type.DELETE, v.key(), null, v.value(), at));
    }
    remember(now);
    return diff;
  }

  private void retryLater(Runnable action) {
    long min = options.minBackoff().toMillis();
    long max = options.maxBackoff().toMillis();
    long base = Math.min(max, min << Math.min(failures++, 20));
    long delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1); // jitter: [base/2, base]
    try {
      client.scheduler().schedule(() -> {
        synchronized (lock) {
          if (!closed) {
            action.run();
          }
        }
      }, delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException clientClosed) {
      closed = true;
    }
  }

  private void safely(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.error("watch handler for {} threw; the watch goes on", what, e);
    }
  }

  /**
   * Closes the current watch; call with the lock held, from that watch's own delivery thread only (its sink
   * calls: closing returns at once there). From other threads use {@link #detachCurrent()}.
   */
  private void closeCurrent() {
    ListWatch.Watch w = detachCurrent();
    if (w != null) {
      w.close();
    }
  }

  /**
   * Forgets the current watch and returns it, to be closed once the lock is released: closing waits for a sink
   * call in progress, which may be waiting for the lock. Call with the lock held.
   */
  private ListWatch.Watch detachCurrent() {
    ListWatch.Watch w = current;
    current = null;
    return w;
  }

  /** Drops the server watch and opens none until {@link #resume()}, as if disconnected; for tests. */
  void suspend() {
    ListWatch.Watch w;
    synchronized (lock) {
      suspended = true;
      generation++;
      w = detachCurrent();
    }
    if (w != null) {
      w.close();
    }
  }

  /** Ends {@link #suspend()}: watches again from the last delivered revision + 1. */
  void resume() {
    synchronized (lock) {
      suspended = false;
      open();
    }
  }

  /** The member serving the current watch (its id from the response headers), 0 if unknown; for tests. */
  long servingMember() {
    synchronized (lock) {
      return current == null ? 0 : ListWatch.memberOf(current);
    }
  }

  @Override
  public long revision() {
    synchronized (lock) {
      return revision;
    }
  }

  @Override
  public void close() {
    ListWatch.Watch w;
    synchronized (lock) {
      closed = true;
      generation++;
      w = detachCurrent();
    }
    if (w != null) {
      w.close(); // outside the lock: it waits for a delivery in progress, which may be waiting for the lock
    }
  }
}
