package io.dkv.informer;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys under a prefix of an etcd-v3 server, through jetcd. Lists are ranged reads at one revision, sorted by
 * key, continued from the key after the last one; watches ask for progress notifications, which become
 * bookmarks. A value the codec cannot decode is logged (once) and treated as absent (skipped by lists, a
 * DELETED event when it is written, left out of {@link #listRevisions} so audits do not count it as drift),
 * so one bad value neither stops the informer nor leaves a stale object cached.
 */
final class EtcdListerWatcher<T> implements ListerWatcher<T> {

  private static final Logger log = LoggerFactory.getLogger(EtcdListerWatcher.class);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final AtomicInteger THREADS = new AtomicInteger();
  /** Where watch responses are handled: never on jetcd's own threads (closing a watch from them deadlocks). */
  private static final ExecutorService CALLBACKS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "dkv-informer-etcd-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  private final DkvClient client;
  private final String prefix;
  private final ByteSequence prefixKey;
  private final ByteSequence prefixEnd;
  private final Codec<T> codec;
  /** Keys whose current value could not be decoded, with its mod revision (logged once per value). */
  private final Map<String, Long> undecodable = new ConcurrentHashMap<>();

  EtcdListerWatcher(DkvClient client, String prefix, Codec<T> codec) {
    this.client = Objects.requireNonNull(client, "client");
    this.prefix = Objects.requireNonNull(prefix, "prefix");
    this.codec = Objects.requireNonNull(codec, "codec");
    this.prefixKey = bytes(prefix);
    this.prefixEnd = prefix.isEmpty() ? ByteSequence.from(new byte[] {0}) : OptionsUtil.prefixEndOf(prefixKey);
  }

  @Override
  public Page<T> list(long revision, String continueFrom, int limit) {
    return page(revision, continueFrom, limit, false, kv -> {
      T value = decode(kv);
      return value == null ? null : new Item<>(string(kv.getKey()), value, kv.getModRevision());
    });
  }

  /** Leaves out the keys whose value at that revision could not be decoded: the cache lacks them on purpose. */
  @Override
  public Page<Long> listRevisions(long revision, String continueFrom, int limit) {
    return page(revision, continueFrom, limit, true, kv -> {
      String key = string(kv.getKey());
      Long bad = undecodable.get(key);
      return bad != null && bad == kv.getModRevision() ? null : new Item<>(key, kv.getModRevision(),
          kv.getModRevision());
    });
  }

  private <R> Page<R> page(long revision, String continueFrom, int limit, boolean keysOnly,
      Function<KeyValue, Item<R>> item) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive, got " + limit);
    }
    if (revision < 0) {
      throw new IllegalArgumentException("revision must not be negative, got " + revision);
    }
    ByteSequence from = continueFrom == null ? prefixKey : bytes(continueFrom);
    GetOption option = GetOption.builder()
        .withRange(prefixEnd)
        .withLimit(limit)
        .withRevision(revision)
        // no sort option: a range comes in key order anyway, and asking for a sort makes etcd read the whole
        // range for every page (etcd 3.4 fetches everything before sorting and truncating)
        .withKeysOnly(keysOnly)
        .build();
    GetResponse r = await(client.jetcd().getKVClient().get(from, option), revision);
    List<Item<R>> items = new ArrayList<>(r.getKvs().size());
    String last = null;
    for (KeyValue kv : r.getKvs()) {
      last = string(kv.getKey());
      Item<R> i = item.apply(kv);
      if (i != null) {
        items.add(i);
      }
    }
    String next = r.isMore() && last != null ? last + '\0' : null;
    // the header tells the server's latest revision; a read at a given revision is that revision's state
    return new Page<>(items, revision > 0 ? revision : r.getHeader().getRevision(), next);
  }

  private static <R> R await(CompletableFuture<R> f, long revision) {
    try {
      return f.get(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing", e);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new IllegalStateException("no answer to a list within " + REQUEST_TIMEOUT, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (isCompacted(cause)) {
        throw new HistoryGoneException("revision " + revision + " is compacted", 0);
      }
      throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
    }
  }

  private static boolean isCompacted(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CompactedException) {
        return true;
      }
      if (c instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.OUT_OF_RANGE
          && String.valueOf(ee.getMessage()).contains("compacted")) {
        return true;
      }
      String m = c.getMessage();
      if (m != null && m.contains("required revision has been compacted")) {
        return true;
      }
    }
    return false;
  }

  @Override
  public WatchHandle watch(long revision, WatchSink<T> sink) {
    Objects.requireNonNull(sink, "sink");
    EtcdWatch w = new EtcdWatch(sink);
    WatchOption option = WatchOption.builder()
        .withRange(prefixEnd)
        .withRevision(revision + 1)
        .withProgressNotify(true)
        .withCreateNotify(true)
        .build();
    w.watcher = client.jetcd().getWatchClient().watch(prefixKey, option, Watch.listener(
        r -> w.serial.execute(() -> w.onNext(r)),
        e -> w.serial.execute(() -> w.onError(e)),
        () -> w.serial.execute(() -> w.end(null))));
    if (w.closed) {
      w.closeWatcher(); // ended (or closed) before jetcd's watcher was known: make sure jetcd does not resume it
    }
    return w;
  }

  /** One open watch: delivers jetcd's responses to the sink in order, off jetcd's threads. */
  private final class EtcdWatch implements WatchHandle {
    final SerialExecutor serial = new SerialExecutor(CALLBACKS);
    volatile Watch.Watcher watcher;
    volatile boolean closed;

    void onNext(WatchResponse r) {
      if (closed) {
        return;
      }
      long header = r.getHeader().getRevision();
      if (r.isCreatedNotify()) {
        log.debug("watch of {} created at {}", prefix, header);
        return;
      }
      if (r.getEvents().isEmpty()) {
        if (r.isProgressNotify() && !closed) {
          sink.serverRevision(header);
          sink.event(Event.bookmark(header));
        }
        return;
      }
      List<Event<T>> batch = new ArrayList<>(r.getEvents().size());
      for (io.etcd.jetcd.watch.WatchEvent e : r.getEvents()) {
        KeyValue kv = e.getKeyValue();
        String key = string(kv.getKey());
        long rev = kv.getModRevision();
        switch (e.getEventType()) {
          case PUT -> {
            T value = decode(kv);
            batch.add(value == null
                ? new Event<>(Event.Type.DELETED, key, null, rev)
                : new Event<>(kv.getVersion() == 1 ? Event.Type.ADDED : Event.Type.MODIFIED, key, value, rev));
          }
          case DELETE -> {
            if (!undecodable.isEmpty()) {
              undecodable.remove(key);
            }
            batch.add(new Event<>(Event.Type.DELETED, key, null, rev));
          }
          default -> {
            // UNRECOGNIZED: nothing to apply
          }
        }
      }
      // a response holds whole revisions (etcd never splits one unless fragmenting, which is not asked for)
      if (!closed) {
        sink.events(batch);
      }
      if (!closed) {
        sink.serverRevision(header);
      }
    }

    void onError(Throwable t) {
      log.debug("watch of {} failed: {}", prefix, t.toString());
      for (Throwable c = t; c != null; c = c.getCause()) {
        if (c instanceof CompactedException ce) {
          end(new HistoryGoneException("watch of " + prefix + " from a compacted revision; oldest available "
              + ce.getCompactedRevision(), ce.getCompactedRevision()));
          return;
        }
      }
      end(t);
    }

    void end(Throwable cause) {
      if (closed) {
        return;
      }
      closed = true;
      closeWatcher();
      sink.closed(cause);
    }

    private final WatchSink<T> sink;

    EtcdWatch(WatchSink<T> sink) {
      this.sink = sink;
    }

    @Override
    public void close() {
      closed = true;
      closeWatcher();
    }

    private void closeWatcher() {
      Watch.Watcher w = watcher;
      if (w != null) {
        try {
          w.close();
        } catch (RuntimeException e) {
          log.debug("closing a watch of {}", prefix, e);
        }
      }
    }

    @Override
    public boolean requestProgress() {
      Watch.Watcher w = watcher;
      if (w == null || closed) {
        return false;
      }
      try {
        w.requestProgress();
        return true;
      } catch (RuntimeException e) {
        log.debug("progress request on {} failed", prefix, e);
        return false;
      }
    }
  }

  private T decode(KeyValue kv) {
    String key = string(kv.getKey());
    try {
      T value = codec.decode(kv.getValue().getBytes());
      if (value == null) {
        throw new IllegalArgumentException("the codec returned null");
      }
      if (!undecodable.isEmpty()) {
        undecodable.remove(key);
      }
      return value;
    } catch (RuntimeException e) {
      Long before = undecodable.put(key, kv.getModRevision());
      if (before == null || before != kv.getModRevision()) {
        log.error("cannot decode the value of {} at revision {}; it is left out of the cache: {}", key,
            kv.getModRevision(), e.toString());
      }
      return null;
    }
  }

  @Override
  public String description() {
    return "etcd:" + prefix;
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static String string(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }
}
