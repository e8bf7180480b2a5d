package io.dkv.client;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * List-then-watch of one key or of the keys under a prefix: consistent paged lists at one revision, and watches
 * of every change after a revision. This is the one etcd source of DKV; {@link DkvClient#watchPrefix}, the
 * informer's {@code ListerWatchers.etcd} and the resources module are built on it. It does not resume by itself:
 * a watch ends with {@link Sink#closed} or {@link Sink#historyGone}, and the caller decides what to do (see
 * {@link DkvClient#watchPrefix} for a watch that resumes).
 *
 * <pre>{@code
 * ListWatch<String> source = ListWatch.prefix(client, "in/", Codec.string()).build();
 * ListWatch.Page<String> page = source.list(0, null, 500);        // more pages: list(page.revision(), page.continueFrom(), 500)
 * ListWatch.Watch watch = source.watch(page.revision(), new ListWatch.Sink<>() {
 *   public void changes(List<ListWatch.Change<String>> changes, long serverRevision) { ... }
 *   public void historyGone(long compactRevision) { ... list again ... }
 *   public void closed(Throwable cause) { ... watch again from the last revision ... }
 * });
 * }</pre>
 *
 * <p>Contracts:
 * <ul>
 *   <li><b>Lists</b> are ranged reads in key order; every page of one list is read at the revision of the first
 *       ({@link Page#revision()}), so the pages together are one state. {@link #listKeys} reads keys and revisions
 *       only.</li>
 *   <li><b>Watches</b> deliver every change after the revision they start from, in revision order, all changes of
 *       one revision (an etcd transaction) in one {@link Sink#changes} call; progress notifications (asked for
 *       with {@link Watch#requestProgress()}, or sent by the server) become {@link Sink#progress} calls.</li>
 *   <li><b>Lost history</b> (the revision is compacted) is a distinct signal: {@link RevisionCompactedException}
 *       from a list, {@link Sink#historyGone} from a watch.</li>
 *   <li><b>Delivery</b>: each watch calls its sink from one thread at a time, never from jetcd's threads, in
 *       order. A sink call that throws is logged and the watch goes on. A watch whose member stops answering (a
 *       paused or cut-off member keeps its connection open) ends with {@link Sink#closed} after about 5 s of
 *       silence, so that the caller resumes it on another member. After {@link Watch#close()} returns no
 *       sink call runs or starts (close waits for one in progress on another thread). {@code closed} and
 *       {@code historyGone} are the last calls of a watch.</li>
 *   <li><b>Values the codec cannot decode</b> (it throws or returns null) are logged at ERROR once per key and
 *       revision, and the key is treated as absent: lists leave it out, a write of it is a
 *       {@link Change.Type#DELETED} change, and {@link #listKeys} leaves it out too.</li>
 *   <li><b>Filter</b> ({@link Builder#filter}): objects it rejects are treated as absent, silently. With
 *       {@linkplain Builder#previousValues previous values}, a change that makes an object start passing is
 *       {@code ADDED}, one that makes it stop passing {@code DELETED} with its last passing state.</li>
 * </ul>
 *
 * @param <T> the value type
 */
public final class ListWatch<T> {

  private static final Logger log = LoggerFactory.getLogger(ListWatch.class);

  private final DkvClient client;
  private final String key;
  private final boolean prefix;
  private final ByteSequence start;
  private final ByteSequence end;
  private final Codec<T> codec;
  private final boolean previousValues;
  private final Predicate<? super Versioned<T>> filter;
  /** Keys whose current value could not be decoded, with that value's mod revision (logged once each). */
  private final Map<String, Long> undecodable = new ConcurrentHashMap<>();

  private ListWatch(Builder<T> b) {
    this.client = b.client;
    this.key = b.key;
    this.prefix = b.prefix;
    this.codec = b.codec;
    this.previousValues = b.previousValues;
    this.filter = b.filter;
    this.start = Keys.bytes(key);
    if (!prefix) {
      this.end = Keys.bytes(key + '\0');
    } else if (key.isEmpty()) {
      this.end = ByteSequence.from(new byte[] {0}); // etcd: from "" to "\0" is the whole keyspace
    } else {
      this.end = OptionsUtil.prefixEndOf(start);
    }
  }

  /** A source of every key under {@code prefix} (the empty prefix: the whole keyspace). */
  public static <T> Builder<T> prefix(DkvClient client, String prefix, Codec<T> codec) {
    return new Builder<>(client, prefix, true, codec);
  }

  /** A source of the one key {@code key}. */
  public static <T> Builder<T> key(DkvClient client, String key, Codec<T> codec) {
    return new Builder<>(client, key, false, codec);
  }

  /**
   * Options of a {@link ListWatch}.
   *
   * <pre>{@code
   * ListWatch<ObjectNode> s = ListWatch.prefix(client, "/registry/", json)
   *     .previousValues(true)
   *     .filter(v -> matches(v.value()))
   *     .build();
   * }</pre>
   *
   * @param <T> the value type
   */
  public static final class Builder<T> {
    private final DkvClient client;
    private final String key;
    private final boolean prefix;
    private final Codec<T> codec;
    private boolean previousValues;
    private Predicate<? super Versioned<T>> filter;

    private Builder(DkvClient client, String key, boolean prefix, Codec<T> codec) {
      this.client = Objects.requireNonNull(client, "client");
      this.key = Objects.requireNonNull(key, prefix ? "prefix" : "key");
      this.prefix = prefix;
      this.codec = Objects.requireNonNull(codec, "codec");
    }

    /**
     * Whether watches ask the server for each change's previous value (etcd's {@code prev_kv}; default false),
     * handed out as {@link Change#previous()}. It costs a read per change on the server.
     */
    public Builder<T> previousValues(boolean on) {
      this.previousValues = on;
      return this;
    }

    /**
     * Only values passing {@code filter} exist for this source; others are treated as absent (lists leave them
     * out, and a change to a rejected value is a deletion, or nothing with {@link #previousValues} when the
     * previous value was rejected too). Nothing is logged for them. Default: every value passes.
     */
    public Builder<T> filter(Predicate<? super Versioned<T>> filter) {
      this.filter = Objects.requireNonNull(filter, "filter");
      return this;
    }

    public ListWatch<T> build() {
      return new ListWatch<>(this);
    }
  }

  /**
   * One page of a list.
   *
   * @param items        the values of this page, in key order (from {@link #listKeys}: with null values)
   * @param revision     the revision the whole list is read at
   * @param continueFrom where the next page starts, or null on the last page
   * @param <T>          the value type
   */
  public record Page<T>(List<Versioned<T>> items, long revision, String continueFrom) {
    public Page {
      items = List.copyOf(items);
    }

    /** Whether more pages follow. */
    public boolean hasMore() {
      return continueFrom != null;
    }
  }

  /**
   * One change seen by a watch.
   *
   * @param type     what happened to the key, as far as this source's values go
   * @param key      the key
   * @param value    the value after the change; null for {@link Type#DELETED}
   * @param previous the value before the change: with {@linkplain Builder#previousValues previous values}, the
   *                 previous value if it existed, decoded and passed the filter; otherwise null
   * @param revision the revision of the change
   * @param <T>      the value type
   */
  public record Change<T>(Type type, String key, Versioned<T> value, Versioned<T> previous, long revision) {

    /** Kinds of change, as informers name them. */
    public enum Type {
      /** The key came into existence (for this source: created, or now decodable, or now passing the filter). */
      ADDED,
      /** The key's value changed. */
      MODIFIED,
      /** The key is gone (deleted, or no longer decodable, or no longer passing the filter). */
      DELETED
    }

    public Change {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Receives one watch's changes. Calls come one at a time, in order, from a thread of the client's pool; see
   * the class's contracts.
   *
   * @param <T> the value type
   */
  public interface Sink<T> {

    /**
     * The changes of one response: every change of one or more whole revisions, in revision order. The list may
     * be empty when every change of the response concerned values that are absent for this source (rejected by
     * the filter before and after); {@code serverRevision} still tells how far the server is.
     *
     * @param serverRevision the server's latest revision when it sent them (may be ahead of the changes)
     */
    void changes(List<Change<T>> changes, long serverRevision);

    /** Everything up to {@code revision} has been delivered (an etcd progress notification): a bookmark. */
    default void progress(long revision) {
    }

    /** The server has set the watch up; {@code serverRevision} is its latest revision then. */
    default void created(long serverRevision) {
    }

    /**
     * The history after the watch's revision is compacted up to {@code compactRevision}: changes are lost, list
     * again. The watch has ended; no call follows.
     */
    void historyGone(long compactRevision);

    /**
     * The watch ended (the connection broke, the server closed it, or the client closed): {@code cause} is the
     * error, or null. Watching again from the last revision delivered loses nothing. No call follows.
     */
    void closed(Throwable cause);
  }

  /** An open watch. */
  public interface Watch extends AutoCloseable {

    /**
     * Stops the watch. When it returns no sink call runs or starts: it waits for a call in progress on another
     * thread (so do not call it holding a lock the sink takes); called from the sink itself it returns at once,
     * and that call finishes. Idempotent; never throws.
     */
    @Override
    void close();

    /**
     * Asks the server for a progress notification (a {@link Sink#progress} call); false if the watch is closed
     * or the request could not be sent.
     */
    boolean requestProgress();
  }

  // ---------------------------------------------------------------- lists

  /**
   * Reads one page of the values.
   *
   * @param revision     0 for the first page (the latest revision); for the next pages the first page's
   *                     {@link Page#revision()}
   * @param continueFrom null for the first page, then the previous page's {@link Page#continueFrom()}
   * @param limit        the most keys read for this page (positive); filtered-out or undecodable ones count
   * @throws RevisionCompactedException if {@code revision} is compacted
   * @throws DkvException               if the read fails or times out
   */
  public Page<T> list(long revision, String continueFrom, int limit) {
    return page(revision, continueFrom, limit, false);
  }

  /**
   * Like {@link #list}, but the items carry no value (null): keys and revisions only, a keys-only read. With a
   * {@linkplain Builder#filter filter} the values must be read to apply it, so this reads them (and drops them).
   * Keys whose value this source could not decode at that revision are left out.
   */
  public Page<T> listKeys(long revision, String continueFrom, int limit) {
    return page(revision, continueFrom, limit, true);
  }

  /** Every value, read page by page at one revision; for snapshots. */
  Page<T> listAll(int pageSize) {
    List<Versioned<T>> all = new ArrayList<>();
    Page<T> p = list(0, null, pageSize);
    long revision = p.revision();
    all.addAll(p.items());
    while (p.hasMore()) {
      p = list(revision, p.continueFrom(), pageSize);
      all.addAll(p.items());
    }
    return new Page<>(all, revision, null);
  }

  /** The server's latest revision (a count-only read of the range). */
  long currentRevision() {
    GetResponse r = client.await(client.jetcd().getKVClient().get(start,
        GetOption.builder().withRange(end).withCountOnly(true).build()));
    return r.getHeader().getRevision();
  }

  private Page<T> page(long revision, String continueFrom, int limit, boolean keysOnly) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive, got " + limit);
    }
    if (revision < 0) {
      throw new IllegalArgumentException("revision must not be negative, got " + revision);
    }
    if (continueFrom != null && (continueFrom.compareTo(key) < 0 || !prefix && !continueFrom.startsWith(key))) {
      throw new IllegalArgumentException("continueFrom \"" + continueFrom + "\" is not in " + description());
    }
    boolean readValues = !keysOnly || filter != null;
    GetOption.Builder o = GetOption.builder().withRange(end).withLimit(limit).withKeysOnly(!readValues);
    // no sort option: a range comes in key order anyway, and asking for a sort makes etcd 3.4 read the whole range
    // for every page
    if (revision > 0) {
      o.withRevision(revision);
    }
    ByteSequence from = continueFrom == null ? start : Keys.bytes(continueFrom);
    GetResponse r;
    try {
      r = client.await(client.jetcd().getKVClient().get(from, o.build()));
    } catch (DkvException e) {
      long compacted = compactRevision(e);
      if (compacted >= 0) {
        throw new RevisionCompactedException("cannot list " + description() + " at revision " + revision
            + ": it is compacted", compacted, e);
      }
      throw e;
    }
    List<Versioned<T>> items = new ArrayList<>(r.getKvs().size());
    String last = null;
    for (KeyValue kv : r.getKvs()) {
      last = Keys.string(kv.getKey());
      if (readValues) {
        Versioned<T> v = decode(kv, last, true);
        if (v != null) {
          items.add(keysOnly ? withoutValue(v) : v);
        }
      } else {
        Long bad = undecodable.get(last);
        if (bad == null || bad != kv.getModRevision()) {
          items.add(new Versioned<>(last, null, kv.getCreateRevision(), kv.getModRevision(), kv.getVersion(),
              kv.getLease()));
        }
      }
    }
    String next = r.isMore() && last != null ? last + '\0' : null;
    return new Page<>(items, revision > 0 ? revision : r.getHeader().getRevision(), next);
  }

  private static <T> Versioned<T> withoutValue(Versioned<T> v) {
    return new Versioned<>(v.key(), null, v.createRevision(), v.modRevision(), v.version(), v.lease());
  }

  // ---------------------------------------------------------------- watches

  /**
   * Watches every change after {@code revision} (from {@code revision + 1} on; 0: from now). Returns at once;
   * see the class's contracts for what the sink gets.
   */
  public Watch watch(long revision, Sink<T> sink) {
    Objects.requireNonNull(sink, "sink");
    if (revision < 0) {
      throw new IllegalArgumentException("revision must not be negative, got " + revision);
    }
    OpenWatch w = new OpenWatch(sink);
    // require-leader (etcd's "hasleader" metadata): a member that lost its leader cancels the watch with
    // "etcdserver: no leader" instead of keeping it open on a store that no longer advances
    WatchOption.Builder o = WatchOption.builder().withRange(end).withPrevKV(previousValues)
        .withProgressNotify(true).withCreateNotify(true).withRequireLeader(true);
    if (revision > 0) {
      o.withRevision(revision + 1);
    }
    try {
      w.watcher = client.jetcd().getWatchClient().watch(start, o.build(), io.etcd.jetcd.Watch.listener(
          r -> w.delivery.execute(() -> w.onNext(r)),
          e -> w.delivery.execute(() -> w.onError(e)),
          () -> w.delivery.execute(() -> w.end(null))));
    } catch (RuntimeException e) {
      w.delivery.execute(() -> w.end(e)); // the client is closed: the watch ends at once
    }
    if (w.ended) {
      w.closeWatcher(); // ended before jetcd's watcher was known: make sure jetcd does not resume it
    } else {
      w.startLivenessCheck();
    }
    return w;
  }

  /** The member that last answered {@code w} (from its response header); 0 if none did yet. For tests. */
  static long memberOf(Watch w) {
    return w instanceof ListWatch<?>.OpenWatch o ? o.memberId : 0;
  }

  /** A watch silent this long is asked for a progress notification. */
  static final Duration PROBE_AFTER = Duration.ofSeconds(2);
  /** A watch that answers nothing this long after a progress request has lost its server. */
  static final Duration ANSWER_WITHIN = Duration.ofSeconds(3);

  /**
   * One watch. Liveness: a member that stops answering without closing its connection (a paused or hung process,
   * a network cut that drops packets) leaves a gRPC stream open with nothing on it, until the channel's keep-alive
   * gives up on the connection. So a watch silent for {@link #PROBE_AFTER} asks for a progress notification, and
   * one that still received nothing {@link #ANSWER_WITHIN} later ends with {@link Sink#closed} (naming the
   * member); the caller watches again from its last revision, and the new stream goes to another member. While no
   * member is connected at all the clock stands still: the watch waits for the connection.
   */
  private final class OpenWatch implements Watch {
    final SerialExecutor delivery;
    final Sink<T> sink;
    volatile io.etcd.jetcd.Watch.Watcher watcher;
    /** Set by the delivery thread when the watch ended, or by close(). */
    volatile boolean ended;
    /** When the stream last said anything, and when a progress request went unanswered since (0: none). */
    volatile long lastHeardNanos = System.nanoTime();
    volatile long probedNanos;
    /** The member that answered last (from the response header), for messages; 0 before its first answer. */
    volatile long memberId;
    private volatile ScheduledFuture<?> liveness;
    /**
     * Progress notifications still owed to liveness probes: they are swallowed, not handed to the sink as
     * bookmarks. etcd before 3.4.24 and 3.5.8 (etcd-io/etcd#15220) may send a requested notification ahead of
     * events it has not sent yet; a probe must not make a caller skip those.
     */
    private final java.util.concurrent.atomic.AtomicInteger probeAnswers = new java.util.concurrent.atomic.AtomicInteger();

    OpenWatch(Sink<T> sink) {
      this.sink = sink;
      this.delivery = new SerialExecutor(client.callbacks(), "watch of " + description());
    }

    void startLivenessCheck() {
      long period = PROBE_AFTER.toMillis() / 4;
      try {
        liveness = client.scheduler().scheduleWithFixedDelay(this::checkLiveness, period, period,
            TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException clientClosed) {
        // the client is closing: the watch ends with it
      }
      if (ended) {
        stopLivenessCheck();
      }
    }

    private void stopLivenessCheck() {
      ScheduledFuture<?> f = liveness;
      if (f != null) {
        f.cancel(false);
      }
    }

    private void checkLiveness() {
      if (ended) {
        stopLivenessCheck();
        return;
      }
      long now = System.nanoTime();
      if (!client.connected()) {
        // no member is connected: the watch waits for the connection (and goes out the moment there is one)
        lastHeardNanos = now;
        probedNanos = 0;
        return;
      }
      long probed = probedNanos;
      if (probed == 0) {
        if (now - lastHeardNanos >= PROBE_AFTER.toNanos()) {
          probedNanos = now;
          probeAnswers.incrementAndGet();
          requestProgress();
        }
      } else if (now - probed >= ANSWER_WITHIN.toNanos()) {
        long silentMs = TimeUnit.NANOSECONDS.toMillis(now - lastHeardNanos);
        String who = memberId == 0 ? "the member serving it" : "member " + Long.toHexString(memberId);
        DkvException e = new DkvException("watch of " + description() + ": no answer from " + who + " (one of "
            + client.endpoints().addresses() + ") for " + silentMs + " ms, not even to a progress request;"
            + " it may be stopped or cut off");
        stopLivenessCheck();
        delivery.execute(() -> end(e));
      }
    }

    void onNext(WatchResponse r) {
      lastHeardNanos = System.nanoTime();
      probedNanos = 0;
      if (ended) {
        return;
      }
      memberId = r.getHeader().getMemberId();
      long header = r.getHeader().getRevision();
      if (r.isCreatedNotify()) {
        sink.created(header);
        return;
      }
      if (r.getEvents().isEmpty()) {
        if (r.isProgressNotify() && probeAnswers.getAndUpdate(n -> Math.max(0, n - 1)) == 0) {
          sink.progress(header);
        }
        return;
      }
      List<Change<T>> changes = new ArrayList<>(r.getEvents().size());
      for (io.etcd.jetcd.watch.WatchEvent e : r.getEvents()) {
        Change<T> c = change(e);
        if (c != null) {
          changes.add(c);
        }
      }
      sink.changes(changes, header);
    }

    void onError(Throwable t) {
      long compacted = compactRevision(t);
      if (compacted >= 0) {
        if (end()) {
          sink.historyGone(compacted);
        }
        return;
      }
      if (end()) {
        sink.closed(t);
      }
    }

    void end(Throwable cause) {
      if (end()) {
        sink.closed(cause);
      }
    }

    /** Marks the watch ended; true the first time. */
    private boolean end() {
      if (ended) {
        return false;
      }
      ended = true;
      stopLivenessCheck();
      closeWatcher();
      return true;
    }

    @Override
    public void close() {
      ended = true;
      stopLivenessCheck();
      closeWatcher();
      delivery.close();
    }

    void closeWatcher() {
      io.etcd.jetcd.Watch.Watcher w = watcher;
      if (w != null) {
        try {
          w.close();
        } catch (RuntimeException e) {
          log.debug("closing the watch of {}", description(), e);
        }
      }
    }

    @Override
    public boolean requestProgress() {
      io.etcd.jetcd.Watch.Watcher w = watcher;
      if (w == null || ended) {
        return false;
      }
      try {
        w.requestProgress();
        return true;
      } catch (RuntimeException e) {
        log.debug("progress request on the watch of {} failed", description(), e);
        return false;
      }
    }
  }

  private Change<T> change(io.etcd.jetcd.watch.WatchEvent e) {
    KeyValue kv = e.getKeyValue();
    String k = Keys.string(kv.getKey());
    long rev = kv.getModRevision();
    Versioned<T> previous = null;
    if (previousValues) {
      KeyValue prev = e.getPrevKV();
      if (prev != null && prev.getVersion() > 0) {
        previous = decode(prev, k, false);
      }
    }
    switch (e.getEventType()) {
      case PUT -> {
        Versioned<T> now = decode(kv, k, true);
        if (now == null) {
          return previousValues && previous == null ? null : new Change<>(Change.Type.DELETED, k, null, previous, rev);
        }
        boolean added = previousValues ? previous == null : kv.getVersion() == 1;
        return new Change<>(added ? Change.Type.ADDED : Change.Type.MODIFIED, k, now, previous, rev);
      }
      case DELETE -> {
        if (!undecodable.isEmpty()) {
          undecodable.remove(k);
        }
        return previousValues && previous == null ? null : new Change<>(Change.Type.DELETED, k, null, previous, rev);
      }
      default -> {
        return null; // UNRECOGNIZED: nothing happened to a key
      }
    }
  }

  /**
   * The value of {@code kv}, whose key is {@code k}, or null when it cannot be decoded or the filter rejects it.
   * {@code current}: the key's current value (a failure is logged and remembered); otherwise a previous value
   * (already logged when it was current).
   */
  private Versioned<T> decode(KeyValue kv, String k, boolean current) {
    Versioned<T> v;
    try {
      T value = codec.decode(kv.getValue().getBytes());
      if (value == null) {
        throw new IllegalArgumentException("the codec returned null");
      }
      v = new Versioned<>(k, value, kv.getCreateRevision(), kv.getModRevision(), kv.getVersion(), kv.getLease());
    } catch (RuntimeException e) {
      if (current) {
        Long before = undecodable.put(k, kv.getModRevision());
        if (before == null || before != kv.getModRevision()) {
          log.error("cannot decode the value of {} at revision {}; treating the key as absent: {}", k,
              kv.getModRevision(), e.toString());
        }
      }
      return null;
    }
    if (current && !undecodable.isEmpty()) {
      undecodable.remove(k);
    }
    return filter == null || filter.test(v) ? v : null;
  }

  /** The compact revision if {@code t} (or a cause) says the history is compacted; -1 otherwise (0: unknown). */
  static long compactRevision(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CompactedException ce) {
        return ce.getCompactedRevision();
      }
      if (c instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.OUT_OF_RANGE
          && String.valueOf(ee.getMessage()).contains("compacted")) {
        return 0;
      }
      String m = c.getMessage();
      if (m != null && m.contains("required revision has been compacted")) {
        return 0;
      }
    }
    return -1;
  }

  /** Like {@code etcd:/jobs/} for a prefix, {@code etcd:config (key)} for one key. */
  public String description() {
    return "etcd:" + key + (prefix ? "" : " (key)");
  }

  @Override
  public String toString() {
    return description();
  }
}
