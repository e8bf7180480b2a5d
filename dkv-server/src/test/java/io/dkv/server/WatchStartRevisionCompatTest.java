package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.testing.Channels;
import io.dkv.server.testing.EtcdProcess;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
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
 * request: a put issued once the watches are created (or, on the same connection, right after their create
 * requests were sent) reaches every one of them. Run many rounds on dkv-server and on a real etcd.
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
      assertEquals(0, missedEvents(dkv.port(), true), "watches that missed the put, of " + 3 * ROUNDS);
    }
  }

  @Test
  void putAfterCreatedReachesEveryWatchOnEtcd() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start()) {
      assertEquals(0, missedEvents(etcd.port(), true), "watches that missed the put, of " + 3 * ROUNDS);
    }
  }

  /**
   * Without waiting for {@code created}: the creates and the put travel on one connection, so the server
   * receives the creates first; dkv-server takes each watch's start revision on arrival, before the put.
   */
  @Test
  void putRightAfterCreateRequestsOnOneConnectionReachesEveryWatchOnDkv() throws Exception {
    try (DkvServer dkv = DkvServer.builder().dataDir(dir.resolve("dkv")).port(0).start()) {
      assertEquals(0, missedEvents(dkv.port(), false), "watches that missed the put, of " + 3 * ROUNDS);
    }
  }

  /** Runs the rounds; returns how many watches (of three a round) did not get the round's put. */
  private static int missedEvents(int port, boolean waitForCreated) throws Exception {
    ManagedChannel channel = Channels.open(port);
    try {
      KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel).withWaitForReady();
      WatchGrpc.WatchStub watch = WatchGrpc.newStub(channel).withWaitForReady();
      int missed = 0;
      for (int round = 0; round < ROUNDS; round++) {
        ByteString key = ByteString.copyFromUtf8("start-rev/" + round);
        Stream a = new Stream(watch, 2);
        Stream b = new Stream(watch, 1);
        try {
          a.create(key);
          a.create(key);
          b.create(key);
          if (waitForCreated) {
            assertTrue(a.created.await(10, TimeUnit.SECONDS), "stream A: created");
            assertTrue(b.created.await(10, TimeUnit.SECONDS), "stream B: created");
          }
          kv.put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8("v")).build());
          boolean all = a.events.await(EVENT_WAIT_MS, TimeUnit.MILLISECONDS)
              & b.events.await(EVENT_WAIT_MS, TimeUnit.MILLISECONDS);
          if (!all) {
            missed += (int) (a.events.getCount() + b.events.getCount());
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
    final CountDownLatch created;
    final CountDownLatch events;
    final Map<Long, Integer> eventsPerWatch = new ConcurrentHashMap<>();
    final List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
    final StreamObserver<WatchRequest> requests;

    Stream(WatchGrpc.WatchStub stub, int watches) {
      created = new CountDownLatch(watches);
      events = new CountDownLatch(watches);
      requests = stub.watch(new StreamObserver<>() {
        @Override
        public void onNext(WatchResponse r) {
          if (r.getCreated() && !r.getCanceled()) {
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

    void create(ByteString key) {
      requests.onNext(WatchRequest.newBuilder()
          .setCreateRequest(WatchCreateRequest.newBuilder().setKey(key)).build());
    }

    void close() {
      requests.onError(new io.grpc.StatusException(io.grpc.Status.CANCELLED));
    }
  }
}
