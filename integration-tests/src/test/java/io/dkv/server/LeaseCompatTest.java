package io.dkv.server;

import static io.dkv.server.KvCompatTest.bs;
import static io.dkv.server.KvCompatTest.putReq;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.server.api.LeaseLeases;
import io.dkv.server.testing.Channels;
import io.dkv.server.testing.RevisionShift;
import io.dkv.server.testing.ServerPair;
import io.dkv.server.testing.Target;
import io.dkv.server.testing.Transcript;
import io.dkv.server.testing.WatchSession;
import io.dkv.server.testing.Transcript.Step;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveResponse;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compatibility suite for leases: the same Lease and KV calls against dkv-server and a real etcd, each
 * fresh, with identical answers (grant, keep-alive, time-to-live with keys, revoke, list, errors), and
 * the same delete events, in one revision, when a lease with keys expires.
 */
class LeaseCompatTest {

  @TempDir
  Path dir;

  private ServerPair servers;

  private void open(Target target) throws Exception {
    servers = ServerPair.open(target, dir.resolve("dkv"));
  }

  @AfterEach
  void stop() {
    if (servers != null) {
      servers.close();
    }
  }

  private void assertSameAnswers(Step... steps) {
    List<Step> list = Arrays.asList(steps);
    List<String> expected;
    List<String> actual;
    try (Transcript e = new Transcript(servers.etcdPort); Transcript d = new Transcript(servers.dkvPort)) {
      expected = e.run(list);
      actual = d.run(list);
    }
    assertEquals(String.join("\n", expected), String.join("\n", actual));
  }

  static Step grant(long id, long ttl) {
    return t -> t.lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(id).setTTL(ttl).build());
  }

  static Step revoke(long id) {
    return t -> t.lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(id).build());
  }

  /** Time to live, keys sorted (etcd lists them in map order). */
  static Step ttl(long id, boolean keys) {
    return t -> {
      LeaseTimeToLiveResponse r = t.lease.leaseTimeToLive(
          LeaseTimeToLiveRequest.newBuilder().setID(id).setKeys(keys).build());
      List<com.google.protobuf.ByteString> sorted = new ArrayList<>(r.getKeysList());
      sorted.sort(com.google.protobuf.ByteString.unsignedLexicographicalComparator());
      return r.toBuilder().clearKeys().addAllKeys(sorted).build();
    };
  }

  static Step keepAlive(long id) {
    return t -> keepAliveOnce(t.channel, id);
  }

  static LeaseKeepAliveResponse keepAliveOnce(ManagedChannel channel, long id) {
    BlockingQueue<LeaseKeepAliveResponse> answers = new LinkedBlockingQueue<>();
    StreamObserver<LeaseKeepAliveRequest> requests = LeaseGrpc.newStub(channel).leaseKeepAlive(new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {
        answers.add(r);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
    try {
      LeaseKeepAliveResponse r = answers.poll(30, TimeUnit.SECONDS);
      requests.onCompleted();
      return r;
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** LeaseLeases, as a TimeToLive-shaped message of ids so the transcript can print it. */
  static Step list() {
    return t -> {
      LeaseLeases.Response r = ClientCalls.blockingUnaryCall(t.channel, LeaseLeases.METHOD,
          io.grpc.CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new LeaseLeases.Request());
      var b = io.etcd.jetcd.api.RangeResponse.newBuilder().setHeader((io.etcd.jetcd.api.ResponseHeader) RevisionShift.shift(r.header(), -Channels.offset(t.port))).setCount(r.ids().size());
      r.ids().stream().sorted().forEach(id -> b.addKvs(io.etcd.jetcd.api.KeyValue.newBuilder().setLease(id)));
      return b.build();
    };
  }

  static Step put(String k, long lease) {
    return t -> t.kv.put(putReq(k, "v").setLease(lease).build());
  }

  static Step all() {
    return t -> t.kv.range(RangeRequest.newBuilder().setKey(bs("\0")).setRangeEnd(bs("\0")).build());
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void grantKeepAliveTimeToLiveRevoke(Target target) throws Exception {
    open(target);
    assertSameAnswers(
        grant(1000, 100),
        grant(1000, 50),
        grant(1001, 1),
        grant(1002, 9_000_000_001L),
        grant(1003, 9_000_000_000L),
        list(),
        put("k1", 1000),
        put("k2", 1000),
        put("k3", 1001),
        put("k4", 77),
        ttl(1000, true),
        ttl(1000, false),
        ttl(1001, true),
        put("k2", 0),
        put("k3", 1000),
        put(putReq("k3", "w").setIgnoreLease(true)),
        ttl(1000, true),
        ttl(1001, true),
        KvCompatTest.del(io.etcd.jetcd.api.DeleteRangeRequest.newBuilder().setKey(bs("k1"))),
        ttl(1000, true),
        put("k1", 1000),
        keepAlive(1000),
        keepAlive(4242),
        revoke(1001),
        revoke(1001),
        revoke(1000),
        all(),
        ttl(1000, true),
        keepAlive(1000),
        revoke(1003),
        list());
  }

  private static Step put(io.etcd.jetcd.api.PutRequest.Builder p) {
    return t -> t.kv.put(p.build());
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void expiryDeletesTheKeysInOneRevisionSeenByAWatcher(Target target) throws Exception {
    open(target);
    List<String> expected = expire(servers.etcdPort);
    assertEquals(expected, expire(servers.dkvPort));
  }

  /** Grants a short lease with keys, watches them, and returns what the watcher saw when it expired. */
  private static List<String> expire(int port) throws Exception {
    try (Transcript t = new Transcript(port); WatchSession watch = new WatchSession(port)) {
      t.lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(1).build());
      t.kv.put(putReq("x/2", "b").setLease(7).build());
      t.kv.put(putReq("x/1", "a").setLease(7).build());
      t.kv.put(putReq("y", "c").build());
      watch.create(WatchCreateRequest.newBuilder().setKey(bs("\0")).setRangeEnd(bs("\0")).setStartRevision(5));
      await().atMost(Duration.ofSeconds(20))
          .until(() -> watch.responses.stream().anyMatch(r -> r.getEventsCount() > 0));
      List<String> seen = new ArrayList<>();
      for (WatchResponse r : watch.responses) {
        if (r.getEventsCount() > 0) {
          StringBuilder line = new StringBuilder("response:");
          for (Event e : r.getEventsList()) {
            line.append(' ').append(e.getType()).append(' ').append(e.getKv().getKey().toStringUtf8())
                .append('@').append(e.getKv().getModRevision());
          }
          seen.add(line.toString());
        }
      }
      seen.add("ttl " + t.lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(7).build()).getTTL());
      seen.add("keys " + t.kv.range(RangeRequest.newBuilder().setKey(bs("\0")).setRangeEnd(bs("\0")).build())
          .getKvsList().stream().map(kv -> kv.getKey().toStringUtf8()).toList());
      return seen;
    }
  }
}
