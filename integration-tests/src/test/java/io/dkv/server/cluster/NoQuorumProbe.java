package io.dkv.server.cluster;

import static io.dkv.server.testing.Transcript.bytes;
import static org.awaitility.Awaitility.await;

import io.dkv.server.testing.Channels;
import io.dkv.testing.FaultyCluster;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One member of a 3-member cluster left alone: its two peers killed (kill -9, the leader among them). Records what
 * it answers then, a line per call (code and message, or the value read), and when (milliseconds since the kill).
 */
final class NoQuorumProbe {

  /** What a member without quorum answered; {@code timings} are kept apart, they are compared loosely. */
  record Outcome(List<String> answers, List<String> timings, long[] millis) {}

  private static final Metadata.Key<String> REQUIRE_LEADER =
      Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);

  private NoQuorumProbe() {}

  static <S extends AbstractStub<S>> S requiringLeader(S stub) {
    Metadata md = new Metadata();
    md.put(REQUIRE_LEADER, "true");
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
  }

  /** A watch stream on {@code key}: its responses, and how and when it ended. */
  static final class Watch implements StreamObserver<WatchResponse> {
    final List<WatchResponse> responses = new CopyOnWriteArrayList<>();
    final AtomicReference<Status> end = new AtomicReference<>();
    volatile long endedAt;

    static Watch open(WatchGrpc.WatchStub stub, String key) {
      Watch w = new Watch();
      stub.watch(w).onNext(WatchRequest.newBuilder()
          .setCreateRequest(WatchCreateRequest.newBuilder().setKey(bytes(key))).build());
      return w;
    }

    @Override
    public void onNext(WatchResponse r) {
      responses.add(r);
    }

    @Override
    public void onError(Throwable t) {
      endedAt = System.nanoTime();
      end.set(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      endedAt = System.nanoTime();
      end.set(Status.OK);
    }
  }

  static Outcome run(FaultyCluster cluster) {
    int leader = cluster.leader();
    int survivor = (leader + 1) % cluster.size();
    ManagedChannel ch = Channels.open(URI.create(cluster.endpoint(survivor)).getPort());
    try {
      KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(ch);
      kv.withDeadlineAfter(10, TimeUnit.SECONDS)
          .put(PutRequest.newBuilder().setKey(bytes("k")).setValue(bytes("before")).build());
      WatchGrpc.WatchStub watch = WatchGrpc.newStub(ch);
      Watch requiring = Watch.open(requiringLeader(watch), "k");
      Watch plain = Watch.open(watch, "k");
      await().atMost(Duration.ofSeconds(10)).until(() -> requiring.responses.size() == 1 && plain.responses.size() == 1);

      for (int i = 0; i < cluster.size(); i++) {
        if (i != survivor) {
          cluster.kill(i);
        }
      }
      long killed = System.nanoTime();
      MaintenanceGrpc.MaintenanceBlockingStub maintenance = MaintenanceGrpc.newBlockingStub(ch);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() ->
          maintenance.withDeadlineAfter(2, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance()).getLeader() == 0);
      long noLeader = System.nanoTime();

      List<String> answers = new ArrayList<>();
      List<String> timings = new ArrayList<>();
      List<Long> millis = new ArrayList<>();
      timings.add("leader unknown after " + ms(killed, noLeader) + " ms");
      millis.add(ms(killed, noLeader));
      PutRequest put = PutRequest.newBuilder().setKey(bytes("k")).setValue(bytes("after")).build();
      RangeRequest get = RangeRequest.newBuilder().setKey(bytes("k")).build();
      call("put", () -> kv.withDeadlineAfter(15, TimeUnit.SECONDS).put(put), answers, timings, millis);
      call("linearizable get", () -> kv.withDeadlineAfter(15, TimeUnit.SECONDS).range(get), answers, timings, millis);
      call("serializable get", () -> kv.withDeadlineAfter(15, TimeUnit.SECONDS)
          .range(get.toBuilder().setSerializable(true).build()).getKvs(0).getValue().toStringUtf8(),
          answers, timings, millis);
      call("put requiring a leader", () -> requiringLeader(kv).withDeadlineAfter(15, TimeUnit.SECONDS).put(put),
          answers, timings, millis);
      call("serializable get requiring a leader", () -> requiringLeader(kv).withDeadlineAfter(15, TimeUnit.SECONDS)
          .range(get.toBuilder().setSerializable(true).build()), answers, timings, millis);

      await().atMost(Duration.ofSeconds(20)).until(() -> requiring.end.get() != null);
      answers.add("watch requiring a leader: " + describe(requiring.end.get()) + " after "
          + requiring.responses.size() + " response(s)");
      timings.add("watch requiring a leader ended " + ms(killed, requiring.endedAt) + " ms after the kill");
      millis.add(ms(killed, requiring.endedAt));
      Watch late = Watch.open(requiringLeader(watch), "k");
      await().atMost(Duration.ofSeconds(10)).until(() -> late.end.get() != null);
      answers.add("new watch requiring a leader: " + describe(late.end.get()) + " after "
          + late.responses.size() + " response(s)");
      answers.add("plain watch: " + (plain.end.get() == null ? "open" : describe(plain.end.get())) + " after "
          + plain.responses.size() + " response(s)");
      return new Outcome(answers, timings, millis.stream().mapToLong(Long::longValue).toArray());
    } finally {
      Channels.close(ch);
    }
  }

  private static void call(String what, Callable<Object> c, List<String> answers, List<String> timings,
      List<Long> millis) {
    long start = System.nanoTime();
    String answer;
    try {
      Object r = c.call();
      answer = r instanceof String s ? "\"" + s + "\"" : "answered";
    } catch (StatusRuntimeException e) {
      answer = describe(e.getStatus());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    long took = ms(start, System.nanoTime());
    answers.add(what + ": " + answer);
    timings.add(what + ": " + took + " ms");
    millis.add(took);
  }

  private static String describe(Status s) {
    return s.getCode() + " \"" + s.getDescription() + "\"";
  }

  private static long ms(long from, long to) {
    return TimeUnit.NANOSECONDS.toMillis(to - from);
  }
}
