package io.dkv.server.concurrency;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Event;
import java.util.Comparator;
import java.util.List;
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

  private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
  private final ExecutorService feed = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "dkv-commit-feed");
    t.setDaemon(true);
    return t;
  });

  /** Hands over the events of a commit, in revision order; called by the writer, never blocks. */
  public void publish(List<Event> events) {
    if (!subscriptions.isEmpty()) {
      feed.execute(() -> deliver(events));
    }
  }

  private void deliver(List<Event> events) {
    for (Event e : events) {
      for (Subscription s : subscriptions) {
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
    subscriptions.add(s);
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
      subscriptions.remove(this);
    }
  }

  /** The end of the range of keys starting with {@code prefix} (etcd's GetPrefixRangeEnd). */
  static ByteString prefixEnd(ByteString prefix) {
    byte[] b = prefix.toByteArray();
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] != (byte) 0xff) {
        b[i]++;
        return ByteString.copyFrom(b, 0, i + 1);
      }
    }
    return ByteString.copyFrom(new byte[1]);
  }
}
