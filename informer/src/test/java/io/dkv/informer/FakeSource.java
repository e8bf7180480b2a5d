package io.dkv.informer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory source with a revisioned history of String values: writes, deletes, compaction, and controls to
 * break, silence or close its watches. Thread-safe.
 */
final class FakeSource implements ListerWatcher<String> {

  private final List<Event<String>> history = new ArrayList<>();
  private final List<FakeWatch> watches = new CopyOnWriteArrayList<>();
  private final ExecutorService delivery = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fake-source");
    t.setDaemon(true);
    return t;
  });
  private long revision;
  private long compacted;
  private volatile boolean answerProgress = true;
  private volatile RuntimeException listFailure;
  final AtomicInteger lists = new AtomicInteger();
  final AtomicInteger watchesOpened = new AtomicInteger();
  final AtomicInteger progressRequests = new AtomicInteger();

  synchronized long put(String key, String value) {
    boolean exists = stateAt(revision).containsKey(key);
    return append(new Event<>(exists ? Event.Type.MODIFIED : Event.Type.ADDED, key, value, ++revision));
  }

  synchronized long delete(String key) {
    if (!stateAt(revision).containsKey(key)) {
      return revision;
    }
    return append(new Event<>(Event.Type.DELETED, key, null, ++revision));
  }

  /** Writes without telling the open watches (as if their streams had silently died). */
  synchronized long putUnseen(String key, String value) {
    boolean exists = stateAt(revision).containsKey(key);
    history.add(new Event<>(exists ? Event.Type.MODIFIED : Event.Type.ADDED, key, value, ++revision));
    return revision;
  }

  private long append(Event<String> e) {
    history.add(e);
    for (FakeWatch w : watches) {
      w.offer(e);
    }
    return e.revision();
  }

  synchronized void compact(long rev) {
    compacted = Math.max(compacted, rev);
  }

  synchronized long revision() {
    return revision;
  }

  synchronized Map<String, Item<String>> state() {
    return stateAt(revision);
  }

  private Map<String, Item<String>> stateAt(long rev) {
    TreeMap<String, Item<String>> state = new TreeMap<>();
    for (Event<String> e : history) {
      if (e.revision() > rev) {
        break;
      }
      if (e.type() == Event.Type.DELETED) {
        state.remove(e.key());
      } else {
        state.put(e.key(), new Item<>(e.key(), e.object(), e.revision()));
      }
    }
    return state;
  }

  void failLists(RuntimeException failure) {
    this.listFailure = failure;
  }

  void answerProgress(boolean answer) {
    this.answerProgress = answer;
  }

  /** Ends every open watch with {@code cause} (null: a clean close by the server). */
  void breakWatches(Throwable cause) {
    for (FakeWatch w : watches) {
      w.end(cause);
    }
  }

  /** Sends every open watch a bookmark at the current revision. */
  synchronized void bookmark() {
    for (FakeWatch w : watches) {
      w.offer(Event.bookmark(revision));
    }
  }

  /** Sends every open watch a bookmark at the current revision, even silenced ones (drift for audits). */
  synchronized void bookmarkUnseen() {
    for (FakeWatch w : watches) {
      long rev = revision;
      w.serial.execute(() -> {
        if (!w.closed) {
          w.sink.event(Event.bookmark(rev));
        }
      });
    }
  }

  /** Open watches stop delivering, without closing. */
  void silenceWatches() {
    for (FakeWatch w : watches) {
      w.silent = true;
    }
  }

  int openWatches() {
    return watches.size();
  }

  @Override
  public synchronized Page<String> list(long rev, String continueFrom, int limit) {
    lists.incrementAndGet();
    RuntimeException f = listFailure;
    if (f != null) {
      throw f;
    }
    long at = rev == 0 ? revision : rev;
    if (at < compacted) {
      throw new HistoryGoneException("revision " + at + " is compacted", compacted);
    }
    List<Item<String>> items = new ArrayList<>();
    String next = null;
    for (Item<String> i : stateAt(at).values()) {
      if (continueFrom != null && i.key().compareTo(continueFrom) < 0) {
        continue;
      }
      if (items.size() == limit) {
        next = i.key();
        break;
      }
      items.add(i);
    }
    return new Page<>(items, at, next);
  }

  @Override
  public synchronized WatchHandle watch(long rev, WatchSink<String> sink) {
    watchesOpened.incrementAndGet();
    FakeWatch w = new FakeWatch(sink);
    if (rev + 1 <= compacted) {
      delivery.execute(() -> w.end(new HistoryGoneException("compacted", compacted)));
      return w;
    }
    for (Event<String> e : history) {
      if (e.revision() > rev) {
        w.offer(e);
      }
    }
    watches.add(w);
    return w;
  }

  @Override
  public String description() {
    return "fake";
  }

  private final class FakeWatch implements WatchHandle {
    final WatchSink<String> sink;
    /** Delivery in order, one call at a time, on the pool: each call runs after the previous one ended. */
    final java.util.concurrent.Executor serial = new java.util.concurrent.Executor() {
      private java.util.concurrent.CompletableFuture<Void> tail = java.util.concurrent.CompletableFuture.completedFuture(null);

      @Override
      public synchronized void execute(Runnable task) {
        tail = tail.handle((v, e) -> (Void) null).thenRunAsync(task, delivery);
      }
    };
    volatile boolean closed;
    volatile boolean silent;

    FakeWatch(WatchSink<String> sink) {
      this.sink = sink;
    }

    void offer(Event<String> e) {
      serial.execute(() -> {
        if (!closed && !silent) {
          sink.event(e);
        }
      });
    }

    void end(Throwable cause) {
      serial.execute(() -> {
        if (!closed) {
          closed = true;
          watches.remove(this);
          sink.closed(cause);
        }
      });
    }

    @Override
    public void close() {
      closed = true;
      watches.remove(this);
    }

    @Override
    public boolean requestProgress() {
      progressRequests.incrementAndGet();
      if (answerProgress && !silent) {
        long rev;
        synchronized (FakeSource.this) {
          rev = revision;
        }
        serial.execute(() -> {
          if (!closed && !silent) {
            sink.event(Event.bookmark(rev));
          }
        });
      }
      return true;
    }
  }
}
