package io.dkv.server.watch;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.dkv.server.mvcc.Keys;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the committed history to watchers, keeping etcd's guarantees: in revision order, no event twice,
 * no gap, all events of a revision in one response, from any revision not compacted.
 *
 * <p>Everything runs on one hub thread, so there are no locks: the writer hands over each committed group of
 * events; synced watchers get them straight away; watchers that are behind (a past start revision, or a
 * client that stopped reading) are unsynced and catch up from storage in batches, then join the synced
 * ones. A stream whose transport buffer is full is never written to: its watchers drop back to unsynced and
 * catch up from storage when it drains, so a slow client costs neither memory nor other watchers' time.
 *
 * <p>Clients come in through {@link #open}: the transport (the gRPC Watch service) gives a {@link WatchOutput}
 * and hands each request to the returned {@link Session}.
 */
public final class WatchHub implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WatchHub.class);

  /** The most revisions read from storage in one catch-up step. */
  static final int MAX_REVS_PER_SYNC = 1000;
  /**
   * About the most bytes of events read in one catch-up step (whole revisions are always kept together), so
   * that a watcher far behind catches up in responses a client can take (gRPC clients accept 4 MiB by
   * default) and the server never holds much of the history in memory.
   */
  static final long MAX_BYTES_PER_SYNC = 1024 * 1024;
  /**
   * The marshaller of what the hub sends through {@link WatchOutput#send}: {@link WatchResponse}s and the
   * pre-encoded responses of its fan-out (the bytes protobuf would write for the same response).
   */
  public static final MethodDescriptor.Marshaller<Object> RESPONSE_MARSHALLER = EncodedResponses.MARSHALLER;
  /** Etcd's error for a watch whose range is empty. */
  static final String EMPTY_RANGE = "mvcc: watcher range is empty";
  static final String DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream";
  /** Fields of etcd's watch protos that jetcd's older protos lack. */
  private static final int CREATE_WATCH_ID_FIELD = 7;
  private static final int CREATE_FRAGMENT_FIELD = 8;

  private final ScheduledExecutorService hub = Executors.newSingleThreadScheduledExecutor(
      new ThreadFactoryBuilder().setNameFormat("dkv-watch").setDaemon(true).build());
  private final MvccStore store;
  private final LongFunction<ResponseHeader> header;
  private final EventSender sender;

  // hub thread state
  private long hubRev;
  private final WatcherIndex synced = new WatcherIndex();
  private final Set<Watcher> unsynced = new LinkedHashSet<>();
  private final Set<WatchStream> streams = new LinkedHashSet<>();
  private boolean syncScheduled;

  /**
   * @param header builds a response header at a revision
   * @param maxRequestBytes the size above which responses of watchers that asked for it are fragmented
   *     (etcd: --max-request-bytes plus its 512 KiB gRPC allowance)
   * @param progressInterval how often watchers that asked for progress notifications get one
   */
  public WatchHub(MvccStore store, LongFunction<ResponseHeader> header, long maxRequestBytes,
      Duration progressInterval) {
    this.store = store;
    this.header = header;
    this.hubRev = store.committedRevision();
    this.sender = new EventSender(store, header, maxRequestBytes);
    long ms = Math.max(1, progressInterval.toMillis());
    hub.scheduleWithFixedDelay(() -> run(this::notifyProgress), ms, ms, TimeUnit.MILLISECONDS);
  }

  /** Runs a hub task; a failure is logged, not swallowed by the executor. */
  private void run(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException | Error e) {
      log.error("watch hub task failed", e);
    }
  }

  private void execute(Runnable task) {
    try {
      hub.execute(() -> run(task));
    } catch (RejectedExecutionException closed) {
      // the hub has stopped (server shutdown): streams ending now need nothing from it
    }
  }

  /** Hands over the events of committed writes, in revision order. Called by the writer; never blocks. */
  public void publish(List<Event> events) {
    execute(() -> deliver(events));
  }

  /**
   * The store was replaced by another member's state (a snapshot installed): its revision may have jumped.
   * Every synced watcher drops back to unsynced from the revision after the last one it was sent, and catches
   * up from the new state's history (or is cancelled as compacted). Called by the writer, before it publishes
   * anything of the new state.
   */
  public void resync() {
    execute(() -> {
      for (WatchStream s : streams) {
        for (Watcher w : s.watchers.values()) {
          if (w.synced) {
            synced.remove(w);
            w.synced = false;
            w.nextRev = Math.max(w.nextRev, hubRev + 1);
            unsynced.add(w);
          }
        }
      }
      hubRev = store.committedRevision();
      scheduleSync();
    });
  }

  /**
   * Opens a client's stream; its requests come through the returned session, its responses go to {@code out}.
   * Any thread.
   */
  public Session open(WatchOutput out) {
    WatchStream stream = new WatchStream(out);
    execute(() -> streams.add(stream));
    return new Session(stream);
  }

  /**
   * One client's stream, as the transport hands its requests to the hub. Each method may be called from any
   * thread, one at a time per session (a gRPC stream's inbound calls are serialized); requests take effect on
   * the hub thread in the order they were made.
   */
  public final class Session {
    private final WatchStream stream;

    private Session(WatchStream stream) {
      this.stream = stream;
    }

    /**
     * Creates a watch (or answers why not, as etcd: a created response with the watch canceled). A watch
     * without a start revision starts after the revision committed now, on the calling thread, when the
     * request arrived: every event of a write committed after this call returns reaches it.
     */
    public void create(WatchCreateRequest request) {
      long arrival = store.committedRevision();
      execute(() -> {
        if (!stream.closed) {
          WatchHub.this.create(stream, request, arrival);
        }
      });
    }

    /** Cancels a watch of this stream; a cancel of an unknown watch gets no answer, as from etcd. */
    public void cancel(long watchId) {
      execute(() -> {
        if (!stream.closed) {
          WatchHub.this.cancel(stream, watchId);
        }
      });
    }

    /** Asks for one progress notification, sent once every watcher of the stream is synced. */
    public void requestProgress() {
      execute(() -> {
        if (!stream.closed) {
          stream.progressRequested = true;
          answerProgress(stream);
        }
      });
    }

    /** Tells the hub the output has room again ({@link WatchOutput#isReady()}): catching up resumes. */
    public void drained() {
      execute(WatchHub.this::scheduleSync);
    }

    /** The client went away: drops the stream's watchers; nothing more is sent to it. */
    public void close() {
      execute(() -> WatchHub.this.close(stream));
    }
  }

  // --- requests ---

  /** Creates a watch that arrived when {@code cur} was the committed revision. */
  private void create(WatchStream stream, WatchCreateRequest c, long cur) {
    ByteString end = c.getRangeEnd();
    long id = unknownVarint(c.getUnknownFields(), CREATE_WATCH_ID_FIELD);
    String error = null;
    if (!end.isEmpty() && !Keys.isToEnd(end)
        && ByteString.unsignedLexicographicalComparator().compare(c.getKey(), end) >= 0) {
      error = EMPTY_RANGE;
    } else if (id != 0 && stream.watchers.containsKey(id)) {
      error = DUPLICATE_ID;
    } else if (id == 0) {
      while (stream.watchers.containsKey(stream.nextId)) {
        stream.nextId++;
      }
      id = stream.nextId++;
    }
    WatchResponse.Builder created = WatchResponse.newBuilder().setHeader(header.apply(cur)).setCreated(true);
    if (error != null) {
      stream.send(created.setWatchId(-1).setCanceled(true).setCancelReason(error).build());
      return;
    }
    stream.send(created.setWatchId(id).build());
    boolean noPut = false;
    boolean noDelete = false;
    for (WatchCreateRequest.FilterType f : c.getFiltersList()) {
      noPut |= f == WatchCreateRequest.FilterType.NOPUT;
      noDelete |= f == WatchCreateRequest.FilterType.NODELETE;
    }
    long start = c.getStartRevision() == 0 ? cur + 1 : c.getStartRevision();
    Watcher w = new Watcher(id, stream, c.getKey(), end, start, c.getPrevKv(), noPut, noDelete,
        c.getProgressNotify(), unknownVarint(c.getUnknownFields(), CREATE_FRAGMENT_FIELD) != 0);
    stream.watchers.put(id, w);
    if (start > hubRev) {
      markSynced(w);
    } else {
      unsynced.add(w);
      scheduleSync();
    }
  }

  private void cancel(WatchStream stream, long id) {
    Watcher w = stream.watchers.remove(id);
    if (w == null) {
      return; // etcd does not answer a cancel of an unknown watch
    }
    drop(w);
    stream.send(WatchResponse.newBuilder().setHeader(header.apply(store.committedRevision()))
        .setWatchId(id).setCanceled(true).build());
    answerProgress(stream);
  }

  private void close(WatchStream stream) {
    if (stream.closed) {
      return;
    }
    stream.closed = true;
    streams.remove(stream);
    for (Watcher w : stream.watchers.values()) {
      drop(w);
    }
    stream.watchers.clear();
  }

  private void drop(Watcher w) {
    if (w.synced) {
      synced.remove(w);
    } else {
      unsynced.remove(w);
    }
  }

  private void markSynced(Watcher w) {
    w.synced = true;
    synced.add(w);
  }

  // --- delivery to synced watchers ---

  /**
   * Delivers a committed group of revisions: each synced watcher gets one response with all its events of
   * the group (whole revisions, in order), so a burst of writes costs a response per watcher, not one per
   * watcher and revision. A watcher whose stream is full gets nothing now and catches up from storage.
   */
  private void deliver(List<Event> events) {
    Map<Watcher, List<Event>> matched = new LinkedHashMap<>();
    for (Event e : events) {
      long rev = e.getKv().getModRevision();
      synced.forEachCovering(e.getKv().getKey(), w -> {
        if (rev >= w.nextRev && w.wants(e)) {
          matched.computeIfAbsent(w, k -> new ArrayList<>(2)).add(e);
        }
      });
    }
    long rev = events.get(events.size() - 1).getKv().getModRevision();
    hubRev = rev;
    for (Map.Entry<Watcher, List<Event>> m : matched.entrySet()) {
      Watcher w = m.getKey();
      if (w.stream.ready()) {
        sender.send(w, m.getValue(), rev);
      } else {
        // the client is not reading: nothing is buffered for it; it catches up from storage later
        synced.remove(w);
        w.synced = false;
        w.nextRev = m.getValue().get(0).getKv().getModRevision();
        unsynced.add(w);
      }
    }
    sender.endStep();
    if (!unsynced.isEmpty()) {
      scheduleSync();
    }
  }

  // --- catching up from storage ---

  private void scheduleSync() {
    if (!syncScheduled && !unsynced.isEmpty()) {
      syncScheduled = true;
      execute(this::syncStep);
    }
  }

  private void syncStep() {
    syncScheduled = false;
    List<Watcher> ready = new ArrayList<>();
    long compacted = store.compactRevision();
    for (Watcher w : List.copyOf(unsynced)) {
      if (w.nextRev < compacted) {
        cancelCompacted(w, compacted);
      } else if (w.stream.ready()) {
        ready.add(w);
      }
    }
    if (ready.isEmpty()) {
      return; // the rest wait for their streams to drain (onReady schedules another step)
    }
    long from = Long.MAX_VALUE;
    for (Watcher w : ready) {
      from = Math.min(from, w.nextRev);
    }
    long to = Math.min(hubRev, from + MAX_REVS_PER_SYNC - 1);
    // one scan for all of them; each watcher then takes its events, while its stream has room
    List<Event> events = new ArrayList<>();
    if (from <= to) {
      // [last complete revision, revision being read, bytes read]
      long[] scan = {from - 1, -1, 0};
      boolean[] cut = {false};
      store.history(from, to, e -> {
        long rev = e.getKv().getModRevision();
        if (rev != scan[1]) {
          if (scan[1] != -1) {
            scan[0] = scan[1];
          }
          if (scan[2] >= MAX_BYTES_PER_SYNC) {
            cut[0] = true; // enough for one step; stop at a revision boundary
            return false;
          }
          scan[1] = rev;
        }
        scan[2] += e.getSerializedSize();
        events.add(e);
        return true;
      });
      if (cut[0]) {
        to = scan[0];
      }
    }
    long compactedAfter = store.compactRevision();
    Map<Selection, List<Event>> selections = new HashMap<>();
    for (Watcher w : ready) {
      if (w.nextRev < compactedAfter) {
        cancelCompacted(w, compactedAfter); // history it needed went away while we read it
        continue;
      }
      if (w.nextRev > to || !w.stream.ready()) {
        continue; // up to date for this step, or its stream is full: a later step serves it
      }
      // watchers of the same range and filters at the same revision (a fan-out) share one selection
      List<Event> evs = selections.computeIfAbsent(new Selection(w.key, w.end, w.noPut, w.noDelete, w.nextRev),
          k -> select(events, w));
      if (!evs.isEmpty()) {
        sender.send(w, evs, hubRev);
      }
      w.nextRev = to + 1;
    }
    sender.endStep();
    for (Watcher w : ready) {
      if (!w.synced && unsynced.contains(w) && w.nextRev > hubRev) {
        unsynced.remove(w);
        markSynced(w);
      }
    }
    for (WatchStream s : streams) {
      answerProgress(s);
    }
    scheduleSync();
  }

  /** What a watcher takes from a step's events: its range, its filters, from its next revision. */
  private record Selection(ByteString key, ByteString end, boolean noPut, boolean noDelete, long fromRev) {}

  private static List<Event> select(List<Event> events, Watcher w) {
    List<Event> evs = new ArrayList<>();
    for (Event e : events) {
      if (e.getKv().getModRevision() >= w.nextRev && w.covers(e.getKv().getKey()) && w.wants(e)) {
        evs.add(e);
      }
    }
    return evs;
  }

  private void cancelCompacted(Watcher w, long compacted) {
    unsynced.remove(w);
    w.stream.watchers.remove(w.id);
    // etcd leaves the revision out of this header
    w.stream.send(WatchResponse.newBuilder().setHeader(header.apply(0))
        .setWatchId(w.id).setCanceled(true).setCompactRevision(compacted).build());
  }

  // --- progress ---

  private void answerProgress(WatchStream s) {
    if (s.progressRequested && s.allSynced()) {
      s.progressRequested = false;
      s.send(WatchResponse.newBuilder().setHeader(header.apply(hubRev)).setWatchId(-1).build());
    }
  }

  private void notifyProgress() {
    for (WatchStream s : streams) {
      for (Watcher w : s.watchers.values()) {
        if (w.progressNotify && w.synced && s.ready()) {
          s.send(WatchResponse.newBuilder().setHeader(header.apply(hubRev)).setWatchId(w.id).build());
        }
      }
    }
  }

  private static long unknownVarint(UnknownFieldSet fields, int number) {
    UnknownFieldSet.Field f = fields.getField(number);
    return f == null || f.getVarintList().isEmpty() ? 0 : f.getVarintList().get(f.getVarintList().size() - 1);
  }

  /** Ends every stream with UNAVAILABLE (clients reconnect and resume elsewhere) and stops delivering. */
  @Override
  public void close() {
    execute(() -> {
      for (WatchStream s : List.copyOf(streams)) {
        close(s);
        s.out.stop();
      }
    });
    hub.shutdown();
    try {
      hub.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.debug("watch hub stopped");
  }
}
