package io.dkv.client;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A self-resuming watch: it remembers the revision up to which it delivered, and after any error opens a
 * new server watch from that revision + 1 (after a backoff with jitter). Events at or below that revision
 * are dropped, so nothing is delivered twice.
 */
final class Watcher<T> implements Subscription {

  private static final Logger log = LoggerFactory.getLogger(Watcher.class);

  private final DkvClient client;
  private final String key;
  private final boolean prefix;
  private final Codec<T> codec;
  private final WatchOptions options;
  private final WatchHandler<T> handler;
  /** What the handler knows, kept only to report the difference after a compaction. */
  private final Map<String, Versioned<T>> known;

  private final Object lock = new Object();
  /** jetcd's callbacks only enqueue here: they must never wait for {@link #lock} (jetcd holds its own). */
  private final SerialExecutor events;
  private boolean closed;
  private boolean suspended;
  private long revision;
  private int generation;
  private int failures;
  private Watch.Watcher current;

  private Watcher(DkvClient client, String key, boolean prefix, Codec<T> codec, WatchOptions options,
      WatchHandler<T> handler) {
    this.client = client;
    this.key = key;
    this.prefix = prefix;
    this.codec = codec;
    this.options = options;
    this.handler = handler;
    this.known = options.resnapshotOnCompaction() ? new LinkedHashMap<>() : null;
    this.events = new SerialExecutor(client.callbacks());
  }

  static <T> Watcher<T> start(DkvClient client, String key, boolean prefix, Codec<T> codec, WatchOptions options,
      WatchHandler<T> handler) {
    Watcher<T> w = new Watcher<>(client, key, prefix, codec, options, handler);
    synchronized (w.lock) {
      if (options.initialSnapshot()) {
        GetResponse r = client.await(w.read());
        List<Versioned<T>> values = w.decode(r);
        w.revision = r.getHeader().getRevision();
        w.remember(values);
        w.safely(() -> handler.onSnapshot(values, w.revision));
      } else if (options.startRevision() > 0) {
        w.revision = options.startRevision() - 1;
        if (w.known != null) {
          w.remember(w.decode(client.await(w.read())));
        }
      } else {
        GetResponse r = client.await(w.read());
        w.revision = r.getHeader().getRevision();
        w.remember(w.decode(r));
      }
      w.open();
    }
    return w;
  }

  private java.util.concurrent.CompletableFuture<GetResponse> read() {
    GetOption.Builder o = GetOption.builder().isPrefix(prefix);
    if (!options.initialSnapshot() && known == null) {
      o.withCountOnly(true); // only the revision is needed
    }
    return client.jetcd().getKVClient().get(Keys.bytes(key), o.build());
  }

  private List<Versioned<T>> decode(GetResponse r) {
    List<Versioned<T>> out = new ArrayList<>(r.getKvs().size());
    for (KeyValue kv : r.getKvs()) {
      out.add(Versioned.of(kv, codec));
    }
    return out;
  }

  private void remember(List<Versioned<T>> values) {
    if (known != null) {
      known.clear();
      for (Versioned<T> v : values) {
        known.put(v.key(), v);
      }
    }
  }

  /** Opens a server watch from revision + 1; call with the lock held. */
  private void open() {
    if (closed || suspended) {
      return;
    }
    int gen = ++generation;
    ByteSequence k = Keys.bytes(key);
    WatchOption o = WatchOption.builder().isPrefix(prefix).withPrevKV(true).withRevision(revision + 1).build();
    current = client.jetcd().getWatchClient().watch(k, o, Watch.listener(
        r -> events.execute(() -> onNext(gen, r)),
        e -> events.execute(() -> onError(gen, e)),
        () -> events.execute(() -> onError(gen, new DkvException("watch completed")))));
  }

  private void onNext(int gen, WatchResponse r) {
    synchronized (lock) {
      if (closed || gen != generation) {
        return;
      }
      failures = 0;
      long last = revision;
      for (io.etcd.jetcd.watch.WatchEvent e : r.getEvents()) {
        KeyValue kv = e.getKeyValue();
        long rev = kv.getModRevision();
        if (rev <= revision) {
          continue; // already delivered before a resume
        }
        last = Math.max(last, rev);
        KeyValue prev = e.getPrevKV();
        boolean hasPrev = prev != null && prev.getModRevision() > 0;
        T prevValue = hasPrev ? codec.decode(prev.getValue().getBytes()) : null;
        String k = Keys.string(kv.getKey());
        WatchEvent<T> event;
        switch (e.getEventType()) {
          case PUT -> {
            Versioned<T> v = Versioned.of(kv, codec);
            event = new WatchEvent<>(WatchEvent.Type.PUT, k, v.value(), prevValue, rev);
            if (known != null) {
              known.put(k, v);
            }
          }
          case DELETE -> {
            event = new WatchEvent<>(WatchEvent.Type.DELETE, k, null, prevValue, rev);
            if (known != null) {
              known.remove(k);
            }
          }
          default -> {
            continue;
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
      Throwable cause = t;
      while (cause.getCause() != null && !(cause instanceof CompactedException)) {
        cause = cause.getCause();
      }
      if (t instanceof CompactedException c) {
        compacted(c.getCompactedRevision());
        return;
      }
      if (cause instanceof CompactedException c) {
        compacted(c.getCompactedRevision());
        return;
      }
      log.debug("watch on {} failed at revision {}; resuming: {}", key, revision, t.toString());
      retryLater(this::open);
    }
  }

  private void compacted(long compactRevision) {
    if (known == null) {
      log.warn("watch on {}: history compacted up to {}; changes after {} may be missed", key, compactRevision,
          revision);
      revision = Math.max(revision, compactRevision - 1);
      safely(() -> handler.onCompacted(compactRevision, List.of()));
      open();
      return;
    }
    client.jetcd().getKVClient().get(Keys.bytes(key), GetOption.builder().isPrefix(prefix).build())
        .whenCompleteAsync((r, e) -> {
          synchronized (lock) {
            if (closed) {
              return;
            }
            if (e != null) {
              retryLater(() -> compacted(compactRevision));
              return;
            }
            long at = r.getHeader().getRevision();
            List<WatchEvent<T>> diff = difference(decode(r), at);
            revision = at;
            safely(() -> handler.onCompacted(compactRevision, diff));
            open();
          }
        }, events);
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
    } catch (java.util.concurrent.RejectedExecutionException clientClosed) {
      closed = true;
    }
  }

  private void safely(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.error("watch handler for {} threw; the watch goes on", key, e);
    }
  }

  private void closeCurrent() {
    Watch.Watcher w = current;
    current = null;
    if (w != null) {
      try {
        w.close();
      } catch (RuntimeException e) {
        log.debug("closing a watch", e);
      }
    }
  }

  /** Drops the server watch and opens none until {@link #resume()}, as if disconnected; for tests. */
  void suspend() {
    synchronized (lock) {
      suspended = true;
      generation++;
      closeCurrent();
    }
  }

  /** Ends {@link #suspend()}: watches again from the last delivered revision + 1. */
  void resume() {
    synchronized (lock) {
      suspended = false;
      open();
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
    synchronized (lock) {
      closed = true;
      generation++;
      closeCurrent();
    }
  }
}
