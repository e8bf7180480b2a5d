package io.dkv.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.DkvServer;
import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.api.AlarmMember;
import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.AlarmResponse;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveRequest;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.TxnRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CORRUPT alarm on one member, DKV and etcd side by side: raised with the Alarm RPC, listed and disarmed
 * with {@code etcdctl alarm list / disarm}, and what fails meanwhile ({@code etcdserver: corrupt cluster}, gRPC
 * DATA_LOSS: every write, compaction, lease grant and revoke) and what still answers (reads, read-only txns,
 * lease queries, alarms). Both print the same, member ids aside; on DKV the alarm survives a restart.
 */
class AlarmCompatTest {

  private static final int CORRUPT = 2;
  private static final int NOSPACE = 1;

  @TempDir
  Path dir;

  @Test
  void corruptAlarmListDisarmAndRefusalsAreEtcdsOnDkvAndEtcd() throws Exception {
    List<String> dkv;
    try (DkvServer server = DkvServer.builder().dataDir(dir.resolve("dkv")).port(0).start()) {
      dkv = scenario(server.endpoint());
    }
    EtcdProcess.assumeInstalled();
    List<String> etcd;
    try (EtcdProcess server = EtcdProcess.start()) {
      etcd = scenario(server.endpoint());
    }
    assertEquals(String.join("\n", etcd), String.join("\n", dkv));
  }

  @Test
  void onDkvTheAlarmSurvivesARestartAndStillRefusesWrites() throws Exception {
    Path data = dir.resolve("restart");
    long id;
    try (DkvServer server = DkvServer.builder().dataDir(data).port(0).start(); Grpc g = new Grpc(server.endpoint())) {
      id = g.memberId();
      g.alarm(AlarmRequest.AlarmAction.ACTIVATE, id, CORRUPT);
    }
    try (DkvServer server = DkvServer.builder().dataDir(data).port(0).metrics("127.0.0.1", 0).start();
        Grpc g = new Grpc(server.endpoint())) {
      assertEquals(List.of(alarm(id, CORRUPT)), g.alarm(AlarmRequest.AlarmAction.GET, 0, 0).getAlarmsList());
      assertEquals("503 {\"health\":\"false\"}", health(server), "an alarm makes /health unhealthy, as etcd's");
      assertCorrupt(() -> g.kv.put(put("k")));
      Etcdctl.Result list = Etcdctl.run(List.of(server.endpoint()), List.of("alarm", "list"));
      assertEquals("memberID:" + Long.toUnsignedString(id) + " alarm:CORRUPT \n", list.out(), list.toString());
      Etcdctl.Result disarm = Etcdctl.run(List.of(server.endpoint()), List.of("alarm", "disarm"));
      assertEquals(0, disarm.exit(), disarm.toString());
      g.kv.put(put("k"));
      assertEquals("200 {\"health\":\"true\"}", health(server));
    }
  }

  private static String health(DkvServer server) throws Exception {
    var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.metricsPort() + "/health")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  /** What one server answers, as lines with its member id replaced by {@code <ID>}. */
  private static List<String> scenario(String endpoint) throws Exception {
    List<String> t = new ArrayList<>();
    try (Grpc g = new Grpc(endpoint)) {
      long id = g.memberId();
      String idText = Long.toUnsignedString(id);
      t.add(ctl(endpoint, idText, "alarm", "list"));
      g.kv.put(put("k"));
      long lease = g.lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build()).getID();
      long rev = g.kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build())
          .getHeader().getRevision();

      AlarmResponse raised = g.alarm(AlarmRequest.AlarmAction.ACTIVATE, id, CORRUPT);
      assertEquals(List.of(alarm(id, CORRUPT)), raised.getAlarmsList());
      assertEquals(List.of(alarm(id, CORRUPT)), g.alarm(AlarmRequest.AlarmAction.ACTIVATE, id, CORRUPT)
          .getAlarmsList(), "raised again: the same alarm");
      assertEquals(List.of(alarm(id, CORRUPT)), g.alarm(AlarmRequest.AlarmAction.GET, 0, CORRUPT).getAlarmsList());
      assertEquals(List.of(), g.alarm(AlarmRequest.AlarmAction.GET, 0, NOSPACE).getAlarmsList());
      t.add(ctl(endpoint, idText, "alarm", "list"));

      // refused by the applier: every write, compaction, lease grant and revoke
      t.add(assertCorrupt(() -> g.kv.put(put("k2"))));
      t.add(assertCorrupt(() -> g.kv.deleteRange(DeleteRangeRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8("k")).build())));
      t.add(assertCorrupt(() -> g.kv.txn(TxnRequest.newBuilder()
          .addSuccess(RequestOp.newBuilder().setRequestPut(put("k3"))).build())));
      t.add(assertCorrupt(() -> g.kv.compact(CompactionRequest.newBuilder().setRevision(rev).build())));
      t.add(assertCorrupt(() -> g.lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build())));
      t.add(assertCorrupt(() -> g.lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(lease).build())));
      t.add(ctl(endpoint, idText, "put", "k2", "v"));
      // still answered: reads (linearizable and serializable), read-only txns, lease queries
      assertEquals("v", g.kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build())
          .getKvs(0).getValue().toStringUtf8());
      assertEquals(1, g.kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
          .setSerializable(true).build()).getCount());
      assertEquals(1, g.kv.txn(TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(
          RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")))).build()).getResponses(0)
          .getResponseRange().getCount());
      assertTrue(g.lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(lease).build()).getTTL() > 0);
      t.add(ctl(endpoint, idText, "get", "k"));

      t.add(ctl(endpoint, idText, "alarm", "disarm"));
      assertEquals(List.of(), g.alarm(AlarmRequest.AlarmAction.GET, 0, 0).getAlarmsList());
      assertEquals(List.of(), g.alarm(AlarmRequest.AlarmAction.DEACTIVATE, id, CORRUPT).getAlarmsList(),
          "disarmed already: nothing to answer");
      t.add(ctl(endpoint, idText, "alarm", "list"));
      t.add(ctl(endpoint, idText, "put", "k2", "v"));
      g.lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(lease).build());
    }
    assertEquals("exit 0\n--- stdout\n--- stderr\n", t.get(0), "no alarm at first");
    assertEquals("exit 0\n--- stdout\nmemberID:<ID> alarm:CORRUPT \n--- stderr\n", t.get(1));
    assertEquals("exit 1\n--- stdout\n--- stderr\nError: etcdserver: corrupt cluster\n", t.get(8));
    assertEquals("exit 0\n--- stdout\nmemberID:<ID> alarm:CORRUPT \n--- stderr\n", t.get(10), "disarm prints it");
    assertEquals("exit 0\n--- stdout\nOK\n--- stderr\n", t.get(12));
    return t;
  }

  /** Etcdctl's output, without its client's retry warnings (JSON log lines with times and ports). */
  private static String ctl(String endpoint, String id, String... args) throws Exception {
    return Etcdctl.run(List.of(endpoint), List.of(args)).toString().replace(id, "<ID>")
        .replaceAll("(?m)^\\{\"level\":\"warn\".*\n", "");
  }

  private static String assertCorrupt(Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(io.grpc.Status.Code.DATA_LOSS, e.getStatus().getCode(), e.toString());
    assertEquals("etcdserver: corrupt cluster", e.getStatus().getDescription());
    return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
  }

  private static AlarmMember alarm(long member, int type) {
    return AlarmMember.newBuilder().setMemberID(member).setAlarmValue(type).build();
  }

  private static PutRequest put(String key) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v"))
        .build();
  }

  /** Blocking stubs of one server's KV, Lease and Maintenance services. */
  private static final class Grpc implements AutoCloseable {
    final ManagedChannel channel;
    final KVGrpc.KVBlockingStub kv;
    final LeaseGrpc.LeaseBlockingStub lease;
    final MaintenanceGrpc.MaintenanceBlockingStub maintenance;

    Grpc(String endpoint) {
      URI u = URI.create(endpoint);
      channel = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
      kv = KVGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      lease = LeaseGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      maintenance = MaintenanceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    long memberId() {
      return maintenance.status(StatusRequest.getDefaultInstance()).getHeader().getMemberId();
    }

    AlarmResponse alarm(AlarmRequest.AlarmAction action, long member, int type) {
      return maintenance.alarm(AlarmRequest.newBuilder().setAction(action).setMemberID(member).setAlarmValue(type)
          .build());
    }

    @Override
    public void close() throws InterruptedException {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
