package io.dkv.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.testing.DkvProcess;
import io.dkv.server.testing.WatchHistoryChecker;
import io.dkv.server.testing.WatchHistoryChecker.Change;
import io.dkv.server.testing.WatchHistoryChecker.Segment;
import io.dkv.server.testing.WatchHistoryChecker.Spec;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.DeleteRangeResponse;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.ResponseOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchProgressRequest;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many watchers (some slow readers, some replaying history, with filters and prev_kv) against concurrent
 * writers, with disconnects and resumes, compactions, a clean restart and a kill -9 of the server; every
 * response is then checked against the write history for etcd's six guarantees.
 */
class WatchGuaranteesTest {

  @TempDir
  Path dir;

  private final long seed = Long.getLong("watch.seed", System.nanoTime());
  private final WatchHistoryChecker checker = new WatchHistoryChecker();
  private final ScheduledExecutorService slowReader = Executors.newSingleThreadScheduledExecutor();

  static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** A watcher that resumes from its last revision + 1, and relists (starts at now) after a compaction. */
  final class Client {
    final String name;
    final Spec spec;
    final boolean slow;
    final ManagedChannel channel;
    final List<Segment> segments = new CopyOnWriteArrayList<>();
    volatile long lastRev;
    volatile long lastCovered;
    volatile ClientCallStreamObserver<WatchRequest> call;
    final KVGrpc.KVBlockingStub kv;

    Client(String name, Spec spec, boolean slow, int port) {
      this.name = name;
      this.spec = spec;
      this.slow = slow;
      this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      this.kv = KVGrpc.newBlockingStub(channel).withWaitForReady();
    }

    void open(long startRev) {
      Segment seg = new Segment(startRev);
      segments.add(seg);
      WatchGrpc.newStub(channel).withWaitForReady().watch(new ClientResponseObserver<WatchRequest, WatchResponse>() {
        @Override
        public void beforeStart(ClientCallStreamObserver<WatchRequest> requests) {
          call = requests;
          if (slow) {
            requests.disableAutoRequestWithInitial(1);
          }
        }

        @Override
        public void onNext(WatchResponse r) {
          synchronized (Client.this) {
            if (segments.get(segments.size() - 1) == seg) { // a canceled call's late responses are dropped
              take(seg, r);
            }
          }
        }

        private void take(Segment seg, WatchResponse r) {
          if (r.getCreated() && seg.startRev == 0) {
            seg.startRev = r.getHeader().getRevision() + 1;
          }
          seg.responses.add(r);
          if (r.getEventsCount() > 0) {
            lastRev = r.getEvents(r.getEventsCount() - 1).getKv().getModRevision();
            lastCovered = Math.max(lastCovered, lastRev);
          } else if (!r.getCreated() && !r.getCanceled()) {
            lastCovered = Math.max(lastCovered, r.getHeader().getRevision());
          }
          if (r.getCompactRevision() > 0) {
            seg.compactedAt = r.getCompactRevision();
            slowReader.execute(Client.this::resume); // relist: start again from now
          }
          if (slow) {
            slowReader.schedule(() -> call.request(1), 2, TimeUnit.MILLISECONDS);
          }
        }

        @Override
        public void onError(Throwable t) {
          // the server went away or we cut the call; the driver resumes us
        }

        @Override
        public void onCompleted() {
        }
      });
      call.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
          .setKey(spec.key()).setRangeEnd(spec.end()).setStartRevision(startRev).setPrevKv(spec.prevKv())
          .addAllFilters(filters())).build());
    }

    private List<WatchCreateRequest.FilterType> filters() {
      List<WatchCreateRequest.FilterType> f = new ArrayList<>();
      if (spec.noPut()) {
        f.add(WatchCreateRequest.FilterType.NOPUT);
      }
      if (spec.noDelete()) {
        f.add(WatchCreateRequest.FilterType.NODELETE);
      }
      return f;
    }

    /** Resumable: a new call from the last revision seen + 1; after a compaction cancel, from now. */
    synchronized void resume() {
      call.cancel("resume", null);
      Segment last = segments.get(segments.size() - 1);
      if (last.compactedAt > 0) {
        long now = kv.range(RangeRequest.newBuilder().setKey(bs("k/")).setCountOnly(true).build())
            .getHeader().getRevision();
        open(now + 1);
      } else {
        open(Math.max(lastRev + 1, last.startRev));
      }
    }

    void requestProgress() {
      call.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
    }

    boolean canceledByCompaction() {
      return segments.get(segments.size() - 1).compactedAt > 0;
    }
  }

  /** Writes random puts, deletes and txns on k/0..k/19 and records every acknowledged change. */
  private void write(KVGrpc.KVBlockingStub kv, Random rnd, int ops, int writer) {
    for (int i = 0; i < ops; i++) {
      String k = "k/" + rnd.nextInt(20);
      int kind = rnd.nextInt(10);
      if (kind < 6) {
        String v = "w" + writer + "-" + i + "-" + rnd.nextInt(1000);
        long rev = kv.put(PutRequest.newBuilder().setKey(bs(k)).setValue(bs(v)).build()).getHeader().getRevision();
        checker.record(rev, List.of(new Change(rev, 0, true, bs(k), bs(v))));
      } else if (kind < 8) {
        DeleteRangeRequest.Builder d = DeleteRangeRequest.newBuilder().setKey(bs(k)).setPrevKv(true);
        if (kind == 7) {
          d.setRangeEnd(bs(k + "\u00ff"));
        }
        DeleteRangeResponse r = kv.deleteRange(d.build());
        List<Change> cs = new ArrayList<>();
        for (KeyValue p : r.getPrevKvsList()) {
          cs.add(new Change(r.getHeader().getRevision(), cs.size(), false, p.getKey(), ByteString.EMPTY));
        }
        checker.record(r.getHeader().getRevision(), cs);
      } else {
        String a = "k/" + rnd.nextInt(10);
        String b = "k/" + (10 + rnd.nextInt(10));
        String v = "t" + writer + "-" + i;
        TxnResponse r = kv.txn(TxnRequest.newBuilder()
            .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bs(a)).setValue(bs(v))))
            .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bs(b)).setValue(bs(v))))
            .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(
                DeleteRangeRequest.newBuilder().setKey(bs(k.equals(a) || k.equals(b) ? "k/none" : k)).setPrevKv(true)))
            .build());
        long rev = r.getHeader().getRevision();
        List<Change> cs = new ArrayList<>(List.of(new Change(rev, 0, true, bs(a), bs(v)),
            new Change(rev, 1, true, bs(b), bs(v))));
        ResponseOp del = r.getResponses(2);
        for (KeyValue p : del.getResponseDeleteRange().getPrevKvsList()) {
          cs.add(new Change(rev, cs.size(), false, p.getKey(), ByteString.EMPTY));
        }
        checker.record(rev, cs);
      }
    }
  }

  private void writeRound(int port, Random rnd, int opsPerWriter, boolean compact) throws Exception {
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(ch).withWaitForReady();
      for (int w = 0; w < 3; w++) {
        Random r = new Random(rnd.nextLong());
        int writer = w;
        Thread t = new Thread(() -> {
          try {
            write(kv, r, opsPerWriter, writer);
          } catch (Throwable e) {
            failures.add(e);
          }
        });
        t.start();
        threads.add(t);
      }
      if (compact) {
        for (int i = 0; i < 3; i++) {
          long now = kv.range(RangeRequest.newBuilder().setKey(bs("k/")).setCountOnly(true).build())
              .getHeader().getRevision();
          if (now > 40) {
            kv.compact(CompactionRequest.newBuilder().setRevision(now - 30).build());
          }
        }
      }
      for (Thread t : threads) {
        t.join();
      }
    } finally {
      ch.shutdownNow();
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void randomizedHistoryKeepsAllSixGuarantees() throws Exception {
    Random rnd = new Random(seed);
    System.out.println("WatchGuaranteesTest seed " + seed + " (rerun with -Dwatch.seed=" + seed + ")");
    Path data = dir.resolve("data");
    DkvProcess server = DkvProcess.start(data, 0, List.of("-Xmx256m"));
    int port = server.port();
    List<Client> clients = new ArrayList<>();
    try {
      // some history to replay before any watcher exists
      writeRound(port, rnd, 20, false);
      List<Spec> specs = List.of(
          new Spec(bs("k/3"), ByteString.EMPTY, false, false, false),
          new Spec(bs("k/1"), bs("k/2"), false, false, true),
          new Spec(bs("k/5"), bs("\0"), false, false, false),
          new Spec(bs("\0"), bs("\0"), false, false, true),
          new Spec(bs("k/2"), bs("k/4"), false, false, false),
          new Spec(bs("k/"), bs("k0"), true, false, false),
          new Spec(bs("k/"), bs("k0"), false, true, true),
          new Spec(bs("k/"), bs("k0"), false, false, false));
      specs = new ArrayList<>(specs);
      for (int i = 0; i < 16; i++) { // and random ones: single keys, prefixes, ranges, filters, prev_kv
        int a = rnd.nextInt(20);
        ByteString key = bs("k/" + a);
        ByteString end = switch (rnd.nextInt(3)) {
          case 0 -> ByteString.EMPTY;
          case 1 -> bs("k/" + a + "\u00ff");
          default -> bs("k/" + (a + 1 + rnd.nextInt(5)));
        };
        specs.add(new Spec(key, end, rnd.nextInt(5) == 0, rnd.nextInt(5) == 0, rnd.nextBoolean()));
      }
      for (int i = 0; i < specs.size(); i++) {
        Client c = new Client("watcher" + i, specs.get(i), i % 3 == 2, port);
        clients.add(c);
        c.open(i % 2 == 0 ? 1 : 0);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> clients.stream().allMatch(c ->
          c.segments.get(0).responses.stream().anyMatch(WatchResponse::getCreated)));

      writeRound(port, rnd, 60, false);
      for (int i = 0; i < clients.size(); i += 3) {
        clients.get(i).resume(); // disconnect and resume
      }
      writeRound(port, rnd, 60, true); // compactions overtake the slow readers

      assertEquals(0, server.stop(), "clean shutdown");
      server = DkvProcess.start(data, port, List.of("-Xmx256m"));
      clients.forEach(Client::resume);
      writeRound(port, rnd, 60, false);

      server.kill();
      server = DkvProcess.start(data, port, List.of("-Xmx256m"));
      clients.forEach(Client::resume);
      writeRound(port, rnd, 60, false);

      // the last revision written; every watcher must be told it has everything up to it
      long last = checker.history().lastKey();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
        clients.forEach(Client::requestProgress);
        return clients.stream().allMatch(c -> c.lastCovered >= last);
      });

      for (Client c : clients) {
        c.channel.shutdownNow(); // nothing more arrives while the history is checked
        c.channel.awaitTermination(10, TimeUnit.SECONDS);
      }
      int events = 0;
      List<String> problems = new ArrayList<>();
      for (Client c : clients) {
        problems.addAll(checker.check(c.name, c.spec, c.segments));
        for (Segment s : c.segments) {
          events += s.responses.stream().mapToInt(WatchResponse::getEventsCount).sum();
        }
      }
      assertEquals(List.of(), problems, "seed " + seed);
      assertTrue(events > 1000, "watchers received " + events + " events");
    } finally {
      for (Client c : clients) {
        c.channel.shutdownNow();
      }
      slowReader.shutdownNow();
      server.close();
    }
  }

}
