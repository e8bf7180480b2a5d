package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.testing.Channels;
import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchProgressRequest;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A watch created without a start revision starts at the revision committed when the server received the
 * request: a put issued once the watches are created reaches every one of them. Many rounds, on dkv-server and
 * on a real etcd. (A put sent without waiting for {@code created} is not ordered after the creates: HTTP/2
 * does not order frames of different streams, and etcd misses such puts too; the arrival revision itself is
 * checked deterministically in {@code io.dkv.server.watch.WatchHubTest}.)
 */
class WatchStartRevisionCompatTest {

  private static final int ROUNDS = Integer.getInteger("watch.start.rounds", 200);
  /** How long a round waits for an event that should come; only a miss waits this long. */
  private static final long EVENT_WAIT_MS = 2000;

  @TempDir
  Path dir;

  @Test
  void putAfterCreatedReachesEveryWatchOnDkv() throws Exception {
    try (DkvServer dkv = DkvServer.builder().dataDir(dir.resolve("dkv")).port(0).start()) {
      assertEquals(List.of(), missedEvents(dkv.port()), "rounds (of " + ROUNDS + ") where a watch missed the put");
    }
  }

  @Test
  void putAfterCreatedReachesEveryWatchOnEtcd() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start()) {
      assertEquals(List.of(), missedEvents(etcd.port()), "rounds (of " + ROUNDS + ") where a watch missed the put");
    }
  }

  /** Runs the rounds; returns the rounds where a watch (of three a round) did not get the round's put. */
  private static List<String> missedEvents(int port) throws Exception {
    ManagedChannel channel = Channels.open(port);
    try {
      KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel).withWaitForReady();
      WatchGrpc.WatchStub watch = WatchGrpc.newStub(channel).withWaitForReady();
      // connect first: calls made while a channel connects are started in no particular order when it is
      // ready, and this test needs them to reach the server in the order they were made
      kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("start-rev/")).build());
      List<String> missed = new ArrayList<>();
      for (int round = 0; round < ROUNDS; round++) {
        ByteString key = ByteString.copyFromUtf8("start-rev/" + round);
        Stream a = new Stream(watch, 2);
        Stream b = new Stream(watch, 1);
        try {
          // both streams are open end to end before the round begins (a progress request answered), so
          // that what follows is only the watches' creation and the put
          a.awaitOpen();
          b.awaitOpen();
          a.create(key);
          a.create(key);
          b.create(key);
          assertTrue(a.created.await(10, TimeUnit.SECONDS), "stream A: created");
          assertTrue(b.created.await(10, TimeUnit.SECONDS), "stream B: created");
          long putRev = kv.put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8("v")).build())
              .getHeader().getRevision();
          boolean all = a.events.await(EVENT_WAIT_MS, TimeUnit.MILLISECONDS)
              & b.events.await(EVENT_WAIT_MS, TimeUnit.MILLISECONDS);
          if (!all) {
            missed.add("round " + round + ": put at " + putRev + "; created A at " + a.createdRevs
                + ", B at " + b.createdRevs + "; events A " + a.eventsPerWatch + ", B " + b.eventsPerWatch);
          }
          assertEquals(List.of(), a.unexpected, "stream A: responses other than created and the event");
          assertEquals(List.of(), b.unexpected, "stream B: responses other than created and the event");
        } finally {
          a.close();
          b.close();
        }
      }
      return missed;
    } finally {
      Channels.close(channel);
    }
  }

  /** One Watch stream with {@code watches} watches on one key, each to get one PUT event. */
  private static final class Stream {
    final CountDownLatch open = new CountDownLatch(1);
    final CountDownLatch created;
    final CountDownLatch events;
    final Map<Long, Integer> eventsPerWatch = new ConcurrentHashMap<>();
    final List<Long> createdRevs = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
    final StreamObserver<WatchRequest> requests;

    Stream(WatchGrpc.WatchStub stub, int watches) {
      created = new CountDownLatch(watches);
      events = new CountDownLatch(watches);
      requests = stub.watch(new StreamObserver<>() {
        @Override
        public void onNext(WatchResponse r) {
          if (r.getWatchId() == -1 && !r.getCreated() && r.getEventsCount() == 0) {
            open.countDown(); // the answer to a progress request
          } else if (r.getCreated() && !r.getCanceled()) {
            createdRevs.add(r.getHeader().getRevision());
            created.countDown();
          } else if (r.getEventsCount() == 1 && eventsPerWatch.merge(r.getWatchId(), 1, Integer::sum) == 1) {
            events.countDown();
          } else {
            unexpected.add(r.toString());
          }
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
      });
    }

    void awaitOpen() throws InterruptedException {
      requests.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
      assertTrue(open.await(10, TimeUnit.SECONDS), "no answer to a progress request");
    }

    void create(ByteString key) {
      requests.onNext(WatchRequest.newBuilder()
          .setCreateRequest(WatchCreateRequest.newBuilder().setKey(key)).build());
    }

    void close() {
      requests.onError(new io.grpc.StatusException(io.grpc.Status.CANCELLED));
    }
  }
}
