package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.testing.ServerPair;
import io.dkv.server.testing.Target;
import io.dkv.server.testing.Transcript;
import io.dkv.server.testing.Transcript.Step;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.TxnRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compatibility suite: each scenario runs the same KV and Maintenance calls against dkv-server and a
 * real etcd, each fresh, and asserts identical answers: values, create/mod revisions, versions, counts,
 * {@code more}, header revisions, error codes and messages.
 */
class KvCompatTest {

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

  // --- request builders ---

  static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static PutRequest.Builder putReq(String k, String v) {
    return PutRequest.newBuilder().setKey(bs(k)).setValue(bs(v));
  }

  static Step put(String k, String v) {
    return t -> t.kv.put(putReq(k, v).build());
  }

  static Step put(PutRequest.Builder p) {
    return t -> t.kv.put(p.build());
  }

  static RangeRequest.Builder rangeReq(String k) {
    return RangeRequest.newBuilder().setKey(bs(k));
  }

  static Step get(String k) {
    return t -> t.kv.range(rangeReq(k).build());
  }

  static Step range(RangeRequest.Builder r) {
    return t -> t.kv.range(r.build());
  }

  static Step del(DeleteRangeRequest.Builder d) {
    return t -> t.kv.deleteRange(d.build());
  }

  static Step txn(TxnRequest.Builder r) {
    return t -> t.kv.txn(r.build());
  }

  static Step compact(long rev, boolean physical) {
    return t -> t.kv.compact(CompactionRequest.newBuilder().setRevision(rev).setPhysical(physical).build());
  }

  static Step hashKv(long rev) {
    return t -> t.maintenance.hashKV(HashKVRequest.newBuilder().setRevision(rev).build());
  }

  static RequestOp opPut(String k, String v) {
    return RequestOp.newBuilder().setRequestPut(putReq(k, v)).build();
  }

  static RequestOp opGet(RangeRequest.Builder r) {
    return RequestOp.newBuilder().setRequestRange(r).build();
  }

  static RequestOp opDel(String k, String end) {
    return RequestOp.newBuilder().setRequestDeleteRange(
        DeleteRangeRequest.newBuilder().setKey(bs(k)).setRangeEnd(bs(end)).setPrevKv(true)).build();
  }

  static RequestOp opTxn(TxnRequest.Builder t) {
    return RequestOp.newBuilder().setRequestTxn(t).build();
  }

  static Compare.Builder cmp(String k, Compare.CompareTarget target, Compare.CompareResult result) {
    return Compare.newBuilder().setKey(bs(k)).setTarget(target).setResult(result);
  }

  // --- scenarios ---

  @ParameterizedTest
  @EnumSource(Target.class)
  void putsAndGets(Target target) throws Exception {
    open(target);
    assertSameAnswers(
        put("a", "1"),
        put(putReq("a", "2").setPrevKv(true)),
        put("b", "3"),
        put("c", "4"),
        put("c/x", "5"),
        get("a"),
        get("missing"),
        range(rangeReq("a").setRevision(2)),
        range(rangeReq("a").setRevision(1)),
        range(rangeReq("a").setRangeEnd(bs("c"))),
        range(rangeReq("c").setRangeEnd(bs("d"))),
        range(rangeReq("b").setRangeEnd(bs("\0"))),
        range(rangeReq("\0").setRangeEnd(bs("\0"))),
        range(rangeReq("c").setRangeEnd(bs("a"))),
        range(rangeReq("a").setRangeEnd(bs("\0")).setLimit(2)),
        range(rangeReq("a").setRangeEnd(bs("\0")).setLimit(4)),
        range(rangeReq("a").setRangeEnd(bs("\0")).setLimit(5)),
        range(rangeReq("a").setRangeEnd(bs("\0")).setCountOnly(true)),
        range(rangeReq("a").setRangeEnd(bs("\0")).setCountOnly(true).setLimit(1)),
        range(rangeReq("a").setRangeEnd(bs("\0")).setKeysOnly(true)),
        range(rangeReq("a").setRangeEnd(bs("\0")).setRevision(3)),
        range(rangeReq("a").setRevision(-1)),
        range(rangeReq("a").setRevision(100)),
        range(rangeReq("")),
        put("", "x"),
        put("a", ""),
        get("a"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void sortingAndRevisionFilters(Target target) throws Exception {
    open(target);
    List<Step> steps = new ArrayList<>();
    // distinct versions, create and mod revisions, and values, so no order has ties
    steps.add(put("k1", "d"));
    steps.add(put("k2", "b"));
    steps.add(put("k3", "a"));
    steps.add(put("k1", "c"));
    steps.add(put("k2", "e"));
    steps.add(put("k2", "f"));
    for (RangeRequest.SortTarget sortTarget : List.of(RangeRequest.SortTarget.KEY, RangeRequest.SortTarget.VERSION,
        RangeRequest.SortTarget.CREATE, RangeRequest.SortTarget.MOD, RangeRequest.SortTarget.VALUE)) {
      for (RangeRequest.SortOrder order : List.of(RangeRequest.SortOrder.NONE, RangeRequest.SortOrder.ASCEND,
          RangeRequest.SortOrder.DESCEND)) {
        steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setSortTarget(sortTarget).setSortOrder(order)));
        steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setSortTarget(sortTarget).setSortOrder(order).setLimit(2)));
      }
    }
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setMinModRevision(5)));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setMaxModRevision(5)));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setMinCreateRevision(3)));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setMaxCreateRevision(3).setLimit(1)));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setMinModRevision(3).setMaxModRevision(6).setLimit(1)));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setMinModRevision(6).setRevision(5)));
    assertSameAnswers(steps.toArray(Step[]::new));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void putOptionsAndErrors(Target target) throws Exception {
    open(target);
    assertSameAnswers(
        put("a", "1"),
        put(putReq("a", "").setIgnoreValue(true).setPrevKv(true)),
        put(putReq("a", "2").setIgnoreLease(true)),
        put(putReq("missing", "").setIgnoreValue(true)),
        put(putReq("missing", "x").setIgnoreLease(true)),
        put(putReq("a", "x").setIgnoreValue(true)),
        put(putReq("a", "x").setIgnoreLease(true).setLease(7)),
        put(putReq("a", "x").setLease(12345)),
        put(putReq("", "x")),
        get("a"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void deletes(Target target) throws Exception {
    open(target);
    assertSameAnswers(
        put("a", "1"),
        put("b", "2"),
        put("b/1", "3"),
        put("b/2", "4"),
        put("c", "5"),
        del(DeleteRangeRequest.newBuilder().setKey(bs("a"))),
        del(DeleteRangeRequest.newBuilder().setKey(bs("a"))),
        del(DeleteRangeRequest.newBuilder().setKey(bs("b/")).setRangeEnd(bs("b0")).setPrevKv(true)),
        get("b/1"),
        range(rangeReq("b/1").setRevision(5)),
        put("a", "again"),
        get("a"),
        range(rangeReq("a").setRevision(2)),
        range(rangeReq("a").setRevision(6)),
        del(DeleteRangeRequest.newBuilder().setKey(bs("b")).setRangeEnd(bs("\0"))),
        range(rangeReq("\0").setRangeEnd(bs("\0"))),
        del(DeleteRangeRequest.newBuilder().setKey(bs(""))),
        del(DeleteRangeRequest.newBuilder().setKey(bs("z")).setRangeEnd(bs("a"))));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void transactions(Target target) throws Exception {
    open(target);
    List<Step> steps = new ArrayList<>(List.of(put("a", "1"), put("a", "2"), put("b", "x")));
    for (Compare.CompareResult result : List.of(Compare.CompareResult.EQUAL, Compare.CompareResult.NOT_EQUAL,
        Compare.CompareResult.GREATER, Compare.CompareResult.LESS)) {
      steps.add(txn(TxnRequest.newBuilder()
          .addCompare(cmp("a", Compare.CompareTarget.VERSION, result).setVersion(2))
          .addCompare(cmp("a", Compare.CompareTarget.CREATE, Compare.CompareResult.EQUAL).setCreateRevision(2))
          .addSuccess(opGet(rangeReq("a")))
          .addFailure(opGet(rangeReq("b")))));
      steps.add(txn(TxnRequest.newBuilder()
          .addCompare(cmp("a", Compare.CompareTarget.MOD, result).setModRevision(3))
          .addSuccess(opPut("s-" + result, "yes"))
          .addFailure(opPut("f-" + result, "no"))));
      steps.add(txn(TxnRequest.newBuilder()
          .addCompare(cmp("b", Compare.CompareTarget.VALUE, result).setValue(bs("x")))
          .addSuccess(opGet(rangeReq("s").setRangeEnd(bs("t"))))));
    }
    // missing keys: zero for numbers, never equal for values
    steps.add(txn(TxnRequest.newBuilder()
        .addCompare(cmp("nope", Compare.CompareTarget.VERSION, Compare.CompareResult.EQUAL).setVersion(0))
        .addSuccess(opPut("created", "1"))));
    steps.add(txn(TxnRequest.newBuilder()
        .addCompare(cmp("nope", Compare.CompareTarget.VALUE, Compare.CompareResult.NOT_EQUAL).setValue(bs("v")))
        .addSuccess(opPut("never", "1"))
        .addFailure(opGet(rangeReq("never")))));
    // compare over a range: every key must match
    steps.add(txn(TxnRequest.newBuilder()
        .addCompare(cmp("s-", Compare.CompareTarget.VALUE, Compare.CompareResult.EQUAL).setValue(bs("yes"))
            .setRangeEnd(bs("s.")))
        .addSuccess(opDel("s-", "s."))
        .addFailure(opGet(rangeReq("s-").setRangeEnd(bs("s."))))));
    // writes then reads in one txn see their own writes, at one revision
    steps.add(txn(TxnRequest.newBuilder()
        .addSuccess(opPut("t1", "a"))
        .addSuccess(opPut("t2", "b"))
        .addSuccess(opGet(rangeReq("t").setRangeEnd(bs("u"))))
        .addSuccess(opDel("a", ""))
        .addSuccess(opGet(rangeReq("a")))));
    // nested txns: compares are evaluated on the state before the txn
    steps.add(txn(TxnRequest.newBuilder()
        .addSuccess(opPut("n1", "outer"))
        .addSuccess(opTxn(TxnRequest.newBuilder()
            .addCompare(cmp("n1", Compare.CompareTarget.VERSION, Compare.CompareResult.EQUAL).setVersion(0))
            .addSuccess(opPut("n2", "inner-then"))
            .addFailure(opPut("n2", "inner-else"))))
        .addSuccess(opGet(rangeReq("n").setRangeEnd(bs("o"))))));
    // read-only txns, empty txns, errors
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opGet(rangeReq("t1").setRevision(2)))));
    steps.add(txn(TxnRequest.newBuilder()));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opGet(rangeReq("t1").setRevision(1000)))));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opPut("d", "1")).addSuccess(opPut("d", "2"))));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opPut("d", "1")).addSuccess(opDel("a", "e"))));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opPut("d", "1")).addFailure(opPut("d", "2"))));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opPut("d", "1"))
        .addSuccess(opTxn(TxnRequest.newBuilder().addSuccess(opPut("d", "2"))))));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opTxn(TxnRequest.newBuilder().addSuccess(opPut("e", "1"))
        .addFailure(opPut("e", "2")))).addSuccess(opPut("f", "1"))));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(RequestOp.getDefaultInstance())));
    steps.add(txn(TxnRequest.newBuilder().addCompare(cmp("", Compare.CompareTarget.VERSION,
        Compare.CompareResult.EQUAL))));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(
        putReq("missing", "").setIgnoreValue(true)))));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opPut("ok", "1")).addSuccess(RequestOp.newBuilder()
        .setRequestPut(putReq("x", "1").setLease(99)))));
    TxnRequest.Builder big = TxnRequest.newBuilder();
    TxnRequest.Builder max = TxnRequest.newBuilder();
    for (int i = 0; i < 129; i++) {
      big.addSuccess(opPut("big" + i, "v"));
      if (i < 128) {
        max.addSuccess(opPut("max" + i, "v"));
      }
    }
    steps.add(txn(big));
    steps.add(txn(max));
    steps.add(range(rangeReq("\0").setRangeEnd(bs("\0")).setCountOnly(true)));
    assertSameAnswers(steps.toArray(Step[]::new));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void compactionAndHashes(Target target) throws Exception {
    open(target);
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      steps.add(put("k" + (i % 3), "v" + i));
    }
    steps.add(del(DeleteRangeRequest.newBuilder().setKey(bs("k1"))));
    steps.add(put("k1", "reborn"));
    steps.add(hashKv(0));
    steps.add(hashKv(5));
    steps.add(hashKv(100));
    steps.add(compact(100, false));
    steps.add(compact(6, false));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setRevision(5)));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setRevision(6)));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setRevision(7)));
    steps.add(compact(6, false));
    steps.add(compact(4, false));
    steps.add(hashKv(6));
    steps.add(hashKv(7));
    steps.add(hashKv(0));
    steps.add(compact(12, true));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l"))));
    steps.add(range(rangeReq("k").setRangeEnd(bs("l")).setRevision(12)));
    steps.add(hashKv(0));
    steps.add(txn(TxnRequest.newBuilder().addSuccess(opGet(rangeReq("k0").setRevision(3)))));
    steps.add(put("after", "compaction"));
    steps.add(hashKv(0));
    assertSameAnswers(steps.toArray(Step[]::new));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void requestSizeLimits(Target target) throws Exception {
    open(target);
    String big = "x".repeat(1536 * 1024 + 100);
    String fine = "y".repeat(1024 * 1024);
    String huge = "z".repeat(1536 * 1024 + 600 * 1024);
    assertSameAnswers(
        put("fine", fine),
        range(rangeReq("fine").setKeysOnly(true)),
        put("big", big),
        put("huge", huge),
        txn(TxnRequest.newBuilder().addSuccess(opPut("big", big))),
        get("big"));
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void statusAndMembers(Target target) throws Exception {
    open(target);
    try (Transcript d = new Transcript(servers.dkvPort); Transcript e = new Transcript(servers.etcdPort)) {
      Step status = t -> t.maintenance.status(StatusRequest.getDefaultInstance());
      var ds = (io.etcd.jetcd.api.StatusResponse) status.call(d);
      var es = (io.etcd.jetcd.api.StatusResponse) status.call(e);
      assertEquals(es.getHeader().getRevision(), ds.getHeader().getRevision());
      assertEquals(es.getHeader().getMemberId() == es.getLeader(), ds.getHeader().getMemberId() == ds.getLeader(),
          "leads itself");
      assertEquals(target != Target.CLUSTER_FOLLOWER, ds.getHeader().getMemberId() == ds.getLeader());
      assertTrue(ds.getDbSize() >= 0);
      assertTrue(ds.getVersion().startsWith("3."));
      var members = d.cluster.memberList(MemberListRequest.getDefaultInstance()).getMembersList();
      var etcdMembers = e.cluster.memberList(MemberListRequest.getDefaultInstance()).getMembersList();
      assertEquals(etcdMembers.size(), members.size());
      assertEquals(target.isCluster() ? 3 : 1, members.size());
      var self = members.stream().filter(m -> m.getID() == ds.getHeader().getMemberId()).findFirst().orElseThrow();
      assertEquals(List.of("http://127.0.0.1:" + servers.dkvPort), self.getClientURLsList());
      assertTrue(members.stream().anyMatch(m -> m.getID() == ds.getLeader()), "the leader is a member");
    }
  }
}
