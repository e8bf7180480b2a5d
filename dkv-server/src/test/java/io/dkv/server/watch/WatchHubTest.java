package io.dkv.server.watch;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.Compaction;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub over a real store, its clients faked: what each stream receives, with streams that stop reading,
 * a hub thread held up, history replayed and compacted. The test thread is the store's writer.
 */
class WatchHubTest {

  private static final ByteString PREFIX = bs("k/");
  private static final ByteString PREFIX_END = bs("k0"); // '/' + 1

  @TempDir
  Path dir;

  private Backend backend;
  private MvccStore store;
  private WatchHub hub;

  @BeforeEach
  void open() throws IOException {
    backend = Backend.open(dir.resolve("data"));
    store = MvccStore.open(backend);
    hub = new WatchHub(store, rev -> ResponseHeader.newBuilder().setRevision(rev).build(), 1536 * 1024,
        Duration.ofMinutes(10));
  }

  @AfterEach
  void close() {
    hub.close();
    backend.close();
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** A client's stream as the hub sees it: what was sent, decoded; readiness under the test's control. */
  private static final class Client implements WatchOutput {
    final List<WatchResponse> responses = new CopyOnWriteArrayList<>();
    volatile boolean ready = true;
    /** When set, the next send waits for it to open (and {@link #sending} opens when that send began). */
    volatile CountDownLatch holdNextSend;
    final CountDownLatch sending = new CountDownLatch(1);

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void send(Object response) {
      CountDownLatch hold = holdNextSend;
      if (hold != null) {
        holdNextSend = null;
        sending.countDown();
        try {
          assertTrue(hold.await(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      try (InputStream in = WatchHub.RESPONSE_MARSHALLER.stream(response)) {
        responses.add(WatchResponse.parseFrom(in));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void stop() {
    }

    List<WatchResponse> created() {
      return responses.stream().filter(WatchResponse::getCreated).toList();
    }

    /** The mod revisions of the events received for {@code watchId}, in the order received. */
    List<Long> eventRevisions(long watchId) {
      List<Long> revs = new ArrayList<>();
      for (WatchResponse r : responses) {
        if (r.getWatchId() == watchId) {
          r.getEventsList().forEach(e -> revs.add(e.getKv().getModRevision()));
        }
      }
      return revs;
    }
  }

  /** Puts {@code key} in a revision of its own, committed and handed to the hub; returns the revision. */
  private long put(ByteString key) {
    MvccStore.WriteTxn txn = store.write();
    long rev = txn.put(key, bs("v" + store.currentRevision()), 0);
    txn.end();
    publish(store.commit(store.appliedIndex() + 1, 1));
    return rev;
  }

  private void publish(List<Event> events) {
    if (!events.isEmpty()) {
      hub.publish(events);
    }
  }

  private static WatchCreateRequest.Builder prefix() {
    return WatchCreateRequest.newBuilder().setKey(PREFIX).setRangeEnd(PREFIX_END);
  }

  @Test
  void aWatchWithoutStartRevisionStartsAtTheRevisionCommittedWhenItArrived() {
    Client busy = new Client();
    WatchHub.Session busySession = hub.open(busy);
    busySession.create(WatchCreateRequest.newBuilder().setKey(bs("busy")).build());
    await().until(() -> busy.created().size() == 1);

    // hold the hub thread in a send, so that what arrives now is handled by the hub only later
    CountDownLatch release = new CountDownLatch(1);
    busy.holdNextSend = release;
    put(bs("busy"));
    await().until(() -> busy.sending.getCount() == 0);

    Client late = new Client();
    WatchHub.Session session = hub.open(late);
    long arrival = store.committedRevision();
    session.create(WatchCreateRequest.newBuilder().setKey(bs("k/x")).build());
    long putRev = put(bs("k/x")); // committed before the hub has seen the create
    release.countDown();

    await().until(() -> late.created().size() == 1);
    assertEquals(arrival, late.created().get(0).getHeader().getRevision(), "created at the arrival revision");
    await().until(() -> late.eventRevisions(0).size() == 1);
    assertEquals(List.of(putRev), late.eventRevisions(0));
  }

  @Test
  void allEventsOfARevisionComeInOneResponse() {
    Client c = new Client();
    hub.open(c).create(prefix().build());
    await().until(() -> c.created().size() == 1);
    MvccStore.WriteTxn txn = store.write();
    txn.put(bs("k/a"), bs("1"), 0);
    txn.put(bs("k/b"), bs("2"), 0);
    txn.put(bs("other"), bs("3"), 0);
    txn.end();
    publish(store.commit(store.appliedIndex() + 1, 1));

    await().until(() -> c.responses.size() == 2);
    WatchResponse r = c.responses.get(1);
    assertEquals(List.of(bs("k/a"), bs("k/b")), r.getEventsList().stream().map(e -> e.getKv().getKey()).toList());
  }

  @Test
  void aStreamThatStopsReadingCatchesUpFromStorageWithoutLossOrRepeat() {
    Client slow = new Client();
    Client fast = new Client();
    WatchHub.Session slowSession = hub.open(slow);
    slowSession.create(prefix().build());
    hub.open(fast).create(prefix().build());
    await().until(() -> slow.created().size() == 1 && fast.created().size() == 1);

    List<Long> revs = new ArrayList<>();
    revs.add(put(bs("k/0")));
    await().until(() -> slow.eventRevisions(0).size() == 1);
    slow.ready = false; // its transport is full: the hub must not write to it
    for (int i = 1; i <= 50; i++) {
      revs.add(put(bs("k/" + i)));
    }
    await().until(() -> fast.eventRevisions(0).size() == 51); // the hub has handled every write
    assertEquals(List.of(revs.get(0)), slow.eventRevisions(0), "sent to a stream that was not ready");

    slow.ready = true;
    slowSession.drained(); // what gRPC's onReady does

    for (int i = 51; i <= 60; i++) {
      revs.add(put(bs("k/" + i))); // live writes while it catches up
    }
    await().until(() -> slow.eventRevisions(0).size() >= revs.size());
    assertEquals(revs, slow.eventRevisions(0), "every revision once, in order");
    assertEquals(revs, fast.eventRevisions(0));

    revs.add(put(bs("k/last"))); // synced again: fed from the commit
    await().until(() -> slow.eventRevisions(0).size() == revs.size());
    assertEquals(revs, slow.eventRevisions(0));
  }

  @Test
  void aWatchFromThePastReplaysHistoryWhileWritesGoOnAndJoinsTheLiveOnes() {
    List<Long> revs = new ArrayList<>();
    for (int i = 0; i < 1500; i++) { // more than one catch-up step (MAX_REVS_PER_SYNC)
      revs.add(put(bs("k/" + i)));
    }
    Client c = new Client();
    hub.open(c).create(prefix().setStartRevision(revs.get(0)).build());
    for (int i = 1500; i < 2600; i++) {
      revs.add(put(bs("k/" + i)));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> c.eventRevisions(0).size() >= revs.size());
    assertEquals(revs, c.eventRevisions(0));
  }

  @Test
  void aWatchFromACompactedRevisionIsCanceledWithTheCompactRevision() {
    for (int i = 0; i < 5; i++) {
      put(bs("k/" + i));
    }
    long compactAt = store.currentRevision() - 1;
    Compaction compaction = store.compact(compactAt);
    store.commit(store.appliedIndex() + 1, 1);
    compaction.run();

    Client c = new Client();
    hub.open(c).create(prefix().setStartRevision(compactAt - 2).build());
    await().until(() -> c.responses.size() == 2);
    assertTrue(c.responses.get(0).getCreated());
    WatchResponse canceled = c.responses.get(1);
    assertTrue(canceled.getCanceled());
    assertEquals(compactAt, canceled.getCompactRevision());
    assertEquals(List.of(), c.eventRevisions(0));
  }

  @Test
  void filtersAndCancelStopEvents() {
    Client c = new Client();
    WatchHub.Session s = hub.open(c);
    s.create(prefix().addFilters(WatchCreateRequest.FilterType.NOPUT).build()); // watch 0: deletes only
    s.create(prefix().build()); // watch 1
    await().until(() -> c.created().size() == 2);
    long put = put(bs("k/a"));
    MvccStore.WriteTxn txn = store.write();
    txn.deleteRange(bs("k/a"), ByteString.EMPTY);
    txn.end();
    long delete = txn.rev();
    publish(store.commit(store.appliedIndex() + 1, 1));
    await().until(() -> c.eventRevisions(1).size() == 2);
    assertEquals(List.of(delete), c.eventRevisions(0));
    assertEquals(List.of(put, delete), c.eventRevisions(1));

    s.cancel(1);
    await().until(() -> c.responses.stream().anyMatch(r -> r.getCanceled() && r.getWatchId() == 1));
    put(bs("k/b"));
    long last = put(bs("k/c"));
    s.create(WatchCreateRequest.newBuilder().setKey(bs("k/c")).setStartRevision(last).build()); // watch 2: a marker
    await().until(() -> c.eventRevisions(2).size() == 1);
    assertEquals(List.of(put, delete), c.eventRevisions(1), "events after the cancel");
    assertEquals(List.of(delete), c.eventRevisions(0), "a NOPUT watch got a put");
  }
}
