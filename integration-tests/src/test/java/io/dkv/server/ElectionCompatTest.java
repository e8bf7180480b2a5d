package io.dkv.server;

import io.dkv.server.testing.CompatServers;
import io.dkv.server.testing.Target;

import static io.dkv.server.KvCompatTest.bs;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.dkv.testing.EtcdProcess;
import io.dkv.server.testing.Transcript;
import io.etcd.jetcd.api.CampaignRequest;
import io.etcd.jetcd.api.CampaignResponse;
import io.etcd.jetcd.api.ElectionGrpc;
import io.etcd.jetcd.api.LeaderKey;
import io.etcd.jetcd.api.LeaderRequest;
import io.etcd.jetcd.api.LeaderResponse;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.ProclaimRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.ResignRequest;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Elections, the same against dkv-server and etcd: campaign, a waiting candidate, leader, proclaim,
 * resign, loss of the leader's lease, observers (one started before any leader, one after), and the
 * errors ("election: no leader", "election: not leader", a missing leader field) with their codes.
 */
class ElectionCompatTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(Target.class)
  void electionBehavesAsEtcd(Target target) throws Exception {
    CompatServers.assertSameOnBoth(target, dir, ElectionCompatTest::scenario);
  }

  private static List<String> scenario(int port) throws Exception {
    List<String> out = new ArrayList<>();
    try (Transcript t = new Transcript(port)) {
      for (long id = 1; id <= 3; id++) {
        t.lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(id).setTTL(60).build());
      }
      ElectionGrpc.ElectionBlockingStub e = ElectionGrpc.newBlockingStub(t.channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS);
      ElectionGrpc.ElectionFutureStub async = ElectionGrpc.newFutureStub(t.channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS);

      out.add("leader " + call(() -> e.leader(LeaderRequest.newBuilder().setName(bs("E")).build())));
      ConcurrentLinkedQueue<String> early = observe(t, "E");

      CampaignResponse c1 = e.campaign(campaign("E", 1, "v1"));
      out.add("campaign 1 " + print(c1));
      ListenableFuture<CampaignResponse> c2 = async.campaign(campaign("E", 2, "v2"));
      await().atMost(Duration.ofSeconds(10)).until(() -> count(t, "E/") == 2);
      out.add("campaign 2 waiting " + !c2.isDone());
      out.add("leader " + call(() -> e.leader(LeaderRequest.newBuilder().setName(bs("E")).build())));
      await().atMost(Duration.ofSeconds(10)).until(() -> early.size() == 1);
      ConcurrentLinkedQueue<String> late = observe(t, "E");
      await().atMost(Duration.ofSeconds(10)).until(() -> late.size() == 1);

      LeaderKey leader1 = c1.getLeader();
      out.add("proclaim " + call(() -> e.proclaim(ProclaimRequest.newBuilder().setLeader(leader1)
          .setValue(bs("v1b")).build())));
      out.add("proclaim stale " + call(() -> e.proclaim(ProclaimRequest.newBuilder()
          .setLeader(leader1.toBuilder().setRev(leader1.getRev() + 100)).setValue(bs("x")).build())));
      out.add("proclaim no leader field " + call(() -> e.proclaim(ProclaimRequest.newBuilder().build())));
      out.add("resign no leader field " + call(() -> e.resign(ResignRequest.newBuilder().build())));
      out.add("resign " + call(() -> e.resign(ResignRequest.newBuilder().setLeader(leader1).build())));
      CampaignResponse c2r = c2.get(10, TimeUnit.SECONDS);
      out.add("campaign 2 " + print(c2r));
      out.add("leader " + call(() -> e.leader(LeaderRequest.newBuilder().setName(bs("E")).build())));
      await().atMost(Duration.ofSeconds(10)).until(() -> early.size() == 3 && late.size() == 3);

      out.add("campaign again, new value " + call(() -> e.campaign(campaign("E", 2, "v2b"))));
      out.add("campaign again, same value " + call(() -> e.campaign(campaign("E", 2, "v2b"))));
      await().atMost(Duration.ofSeconds(10)).until(() -> early.size() == 4 && late.size() == 4);
      t.lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(2).build());
      out.add("leader after revoke " + call(() -> e.leader(LeaderRequest.newBuilder().setName(bs("E")).build())));
      out.add("resign stale " + call(() -> e.resign(ResignRequest.newBuilder().setLeader(c2r.getLeader()).build())));
      out.add("campaign unknown lease " + call(() -> e.campaign(campaign("F", 99, "x"))));
      CampaignResponse c3 = e.campaign(campaign("E", 3, "v3"));
      out.add("campaign 3 " + print(c3));
      await().atMost(Duration.ofSeconds(10)).until(() -> early.size() == 5 && late.size() == 5);
      out.add("early observer " + early);
      out.add("late observer " + late);
    }
    return out;
  }

  private static CampaignRequest campaign(String name, long lease, String value) {
    return CampaignRequest.newBuilder().setName(bs(name)).setLease(lease).setValue(bs(value)).build();
  }

  private static ConcurrentLinkedQueue<String> observe(Transcript t, String name) {
    ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
    Context.current().withCancellation().run(() -> ElectionGrpc.newStub(t.channel).observe(
        LeaderRequest.newBuilder().setName(bs(name)).build(), new StreamObserver<>() {
          @Override
          public void onNext(LeaderResponse r) {
            seen.add(print(r));
          }

          @Override
          public void onError(Throwable e) {}

          @Override
          public void onCompleted() {}
        }));
    return seen;
  }

  private static long count(Transcript t, String prefix) {
    return t.kv.range(RangeRequest.newBuilder().setKey(bs(prefix)).setRangeEnd(bs("F")).setCountOnly(true).build())
        .getCount();
  }

  private static String call(Callable<Message> c) {
    try {
      return print(c.call());
    } catch (StatusRuntimeException e) {
      return "ERROR " + e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String print(Message m) {
    return TextFormat.printer().shortDebugString(Transcript.normalize(m));
  }
}
