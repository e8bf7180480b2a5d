package io.dkv.server.concurrency;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Event;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Committed events for the server's own coordination (locks, elections): a subscriber sees, in revision
 * order and on one feed thread, every event of a key range committed after it subscribed. Subscribers are
 * few and short-lived (waiting lock and election callers), so each event is matched against each of them.
 * Listeners must not block.
 */
public final class CommitFeed implements AutoCloseable {

  private static final Comparator<ByteString> BYTES = ByteString.unsignedLexicographicalComparator();

  // waiting lock callers watch one key each: those are found by key; ranges (Observe) are few and scanned
  private final Map<ByteString, List<Subscription>> byKey = new ConcurrentHashMap<>();
  private final List<Subscription> ranges = new CopyOnWriteArrayList<>();
  private final ExecutorService feed = Executors.newSingleThreadExecutor(
      new ThreadFactoryBuilder().setNameFormat("dkv-commit-feed").setDaemon(true).build());

  /** Hands over the events of a commit, in revision order; called by the writer, never blocks. */
  public void publish(List<Event> events) {
    if (!byKey.isEmpty() || !ranges.isEmpty()) {
      feed.execute(() -> deliver(events));
    }
  }

  private void deliver(List<Event> events) {
    for (Event e : events) {
      List<Subscription> exact = byKey.get(e.getKv().getKey());
      if (exact != null) {
        exact.forEach(s -> s.listener.accept(e));
      }
      for (Subscription s : ranges) {
        if (s.matches(e.getKv().getKey())) {
          s.listener.accept(e);
        }
      }
    }
  }

  /**
   * Subscribes to the events of keys in [key, end) (empty end: the key alone) from the next commit on.
   * The returned subscription stops them when closed.
   */
  Subscription subscribe(ByteString key, ByteString end, Consumer<Event> listener) {
    Subscription s = new Subscription(key, end, listener);
    if (end.isEmpty()) {
      byKey.compute(key, (k, list) -> {
        List<Subscription> l = list == null ? new CopyOnWriteArrayList<>() : list;
        l.add(s);
        return l;
      });
    } else {
      ranges.add(s);
    }
    return s;
  }

  /** Runs {@code task} on the feed thread, after the events already handed over. */
  void execute(Runnable task) {
    feed.execute(task);
  }

  @Override
  public void close() {
    feed.shutdownNow();
  }

  /** One subscriber's interest. */
  final class Subscription implements AutoCloseable {
    private final ByteString key;
    private final ByteString end;
    private final Consumer<Event> listener;

    private Subscription(ByteString key, ByteString end, Consumer<Event> listener) {
      this.key = key;
      this.end = end;
      this.listener = listener;
    }

    private boolean matches(ByteString k) {
      return end.isEmpty() ? k.equals(key) : BYTES.compare(k, key) >= 0 && BYTES.compare(k, end) < 0;
    }

    @Override
    public void close() {
      if (end.isEmpty()) {
        byKey.computeIfPresent(key, (k, l) -> {
          l.remove(this);
          return l.isEmpty() ? null : l;
        });
      } else {
        ranges.remove(this);
      }
    }
  }
}
