package io.dkv.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.testing.DkvProcess;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
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
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that stops reading its watch stream must not block writers or other watchers, must not make the
 * server hold its backlog in memory, and must lose nothing: once it reads again it gets every event.
 */
class SlowWatcherTest {

  @TempDir
  Path dir;

  /** A watch stream that reads only when told to. */
  static final class Reader {
    final List<Event> events = new CopyOnWriteArrayList<>();
    final List<Long> revisions = new CopyOnWriteArrayList<>();
    volatile ClientCallStreamObserver<WatchRequest> call;

    Reader(ManagedChannel ch, boolean reading) {
      WatchGrpc.newStub(ch).watch(new ClientResponseObserver<WatchRequest, WatchResponse>() {
        @Override
        public void beforeStart(ClientCallStreamObserver<WatchRequest> requests) {
          call = requests;
          if (!reading) {
            requests.disableAutoRequestWithInitial(1); // the created response, then nothing
          }
        }

        @Override
        public void onNext(WatchResponse r) {
          events.addAll(r.getEventsList());
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
      });
      call.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8("big/")).setRangeEnd(ByteString.copyFromUtf8("big0"))).build());
    }
  }

  @Test
  void aStalledWatcherCostsNeitherWritersNorMemoryAndLosesNothing() throws Exception {
    int puts = 200;
    ByteString value = ByteString.copyFrom(new byte[256 * 1024]); // 50 MiB in all, against a 48 MiB heap
    try (DkvProcess server = DkvProcess.start(dir.resolve("data"), 0, List.of("-Xmx64m"))) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
          .maxInboundMessageSize(256 * 1024 * 1024).build();
      try {
        Reader stalled = new Reader(ch, false);
        Reader live = new Reader(ch, true);
        KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(ch);
        List<Long> revs = new ArrayList<>();
        for (int i = 0; i < puts; i++) {
          revs.add(kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("big/" + i)).setValue(value)
              .build()).getHeader().getRevision());
        }
        await().atMost(Duration.ofSeconds(120)).until(() -> live.events.size() == puts);
        assertTrue(stalled.events.size() < puts, "the stalled reader read nothing yet");

        stalled.call.request(Integer.MAX_VALUE);
        await().atMost(Duration.ofSeconds(120)).until(() -> stalled.events.size() >= puts);
        for (Reader r : List.of(live, stalled)) {
          List<Long> got = r.events.stream().map(e -> e.getKv().getModRevision()).toList();
          assertEquals(revs, got, "every event, once, in order");
        }
      } finally {
        ch.shutdownNow();
      }
    }
  }
}
