package io.dkv.server.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Etcd's KV semantics on a real store: txn compares and branches, range limits and sorting, error kinds. */
class KvOpsTest {

  private static final long LEASE = 7;
  private static final KvOps.LeaseCheck LEASES = id -> id == LEASE;

  @TempDir
  Path dir;

  private Backend backend;
  private MvccStore store;

  @BeforeEach
  void open() throws IOException {
    backend = Backend.open(dir);
    store = MvccStore.open(backend);
  }

  @AfterEach
  void close() {
    backend.close();
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** Runs {@code f} in one write transaction, committed (even when it fails, as the applier does). */
  private <T> T write(Function<MvccStore.WriteTxn, T> f) {
    MvccStore.WriteTxn txn = store.write();
    try {
      return f.apply(txn);
    } finally {
      txn.end();
      store.commit(store.appliedIndex() + 1, 1);
    }
  }

  private long put(String key, String value) {
    return write(t -> KvOps.put(t, PutRequest.newBuilder().setKey(bs(key)).setValue(bs(value)).build()))
        .getHeader().getRevision();
  }

  private TxnResponse txn(TxnRequest t) {
    return write(w -> KvOps.txn(w, t, LEASES));
  }

  private static Compare compare(String key, Compare.CompareTarget target, Compare.CompareResult result) {
    return Compare.newBuilder().setKey(bs(key)).setTarget(target).setResult(result).build();
  }

  private static RequestOp putOp(String key, String value) {
    return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bs(key)).setValue(bs(value))).build();
  }

  private RangeResponse range(RangeRequest.Builder r) {
    return KvOps.range(store.read(), r.build());
  }

  private static List<String> keys(RangeResponse r) {
    return r.getKvsList().stream().map(kv -> kv.getKey().toStringUtf8()).toList();
  }

  @Test
  void aMissingKeyComparesAsZeroButNeverEqualToAValue() {
    TxnResponse versionZero = txn(TxnRequest.newBuilder()
        .addCompare(compare("missing", Compare.CompareTarget.VERSION, Compare.CompareResult.EQUAL).toBuilder()
            .setVersion(0).build())
        .addSuccess(putOp("created", "1")).build());
    assertTrue(versionZero.getSucceeded());

    TxnResponse emptyValue = txn(TxnRequest.newBuilder()
        .addCompare(compare("missing", Compare.CompareTarget.VALUE, Compare.CompareResult.EQUAL).toBuilder()
            .setValue(ByteString.EMPTY).build())
        .build());
    assertFalse(emptyValue.getSucceeded(), "a missing key has no value, not an empty one");
  }

  @Test
  void aCompareOverARangeHoldsOnlyIfItHoldsForEveryKey() {
    put("r/a", "1");
    put("r/b", "2");
    Compare valueBelow2 = compare("r/", Compare.CompareTarget.VALUE, Compare.CompareResult.LESS).toBuilder()
        .setRangeEnd(bs("r0")).setValue(bs("2")).build();
    assertFalse(txn(TxnRequest.newBuilder().addCompare(valueBelow2).build()).getSucceeded());
    Compare valueBelow3 = valueBelow2.toBuilder().setValue(bs("3")).build();
    assertTrue(txn(TxnRequest.newBuilder().addCompare(valueBelow3).build()).getSucceeded());
  }

  @Test
  void compareByRevisionsChoosesTheBranchAndItsResponsesAtOneRevision() {
    long created = put("k", "v1");
    long modified = put("k", "v2");
    TxnResponse r = txn(TxnRequest.newBuilder()
        .addCompare(compare("k", Compare.CompareTarget.CREATE, Compare.CompareResult.EQUAL).toBuilder()
            .setCreateRevision(created).build())
        .addCompare(compare("k", Compare.CompareTarget.MOD, Compare.CompareResult.GREATER).toBuilder()
            .setModRevision(created).build())
        .addSuccess(putOp("a", "1"))
        .addSuccess(putOp("b", "2"))
        .addFailure(putOp("failed", "x"))
        .build());
    assertTrue(r.getSucceeded());
    assertEquals(modified + 1, r.getHeader().getRevision(), "both puts in one revision");
    assertEquals(List.of("a", "b"), keys(range(RangeRequest.newBuilder().setKey(bs("a")).setRangeEnd(bs("c")))));
    assertEquals(0, range(RangeRequest.newBuilder().setKey(bs("failed"))).getCount());
  }

  @Test
  void aTxnThatFailsAChecksChangesNothing() {
    long before = put("k", "v");
    TxnRequest unknownLease = TxnRequest.newBuilder()
        .addSuccess(putOp("first", "1"))
        .addSuccess(RequestOp.newBuilder().setRequestPut(
            PutRequest.newBuilder().setKey(bs("second")).setValue(bs("2")).setLease(LEASE + 1)))
        .build();
    EtcdException e = assertThrows(EtcdException.class, () -> txn(unknownLease));
    assertEquals(EtcdError.LEASE_NOT_FOUND, e.error());
    assertEquals(before, store.committedRevision());
    assertEquals(0, range(RangeRequest.newBuilder().setKey(bs("first"))).getCount());

    TxnRequest ignoreValueOfMissing = TxnRequest.newBuilder()
        .addSuccess(putOp("first", "1"))
        .addSuccess(RequestOp.newBuilder().setRequestPut(
            PutRequest.newBuilder().setKey(bs("missing")).setIgnoreValue(true)))
        .build();
    assertEquals(EtcdError.KEY_NOT_FOUND, assertThrows(EtcdException.class, () -> txn(ignoreValueOfMissing)).error());
    assertEquals(before, store.committedRevision());
  }

  /**
   * A delete-from-key (range_end "\0") passes the duplicate-key check with any put after it, as in etcd; a put
   * with ignore_value of a key it deleted must fail before the delete is applied (etcd panics half way).
   */
  @Test
  void anIgnoreValuePutOfAKeyDeletedEarlierInTheTxnFailsBeforeTheDelete() {
    put("k1", "v1");
    long before = put("k2", "v2");
    RequestOp deleteFromK = RequestOp.newBuilder().setRequestDeleteRange(io.etcd.jetcd.api.DeleteRangeRequest
        .newBuilder().setKey(bs("k")).setRangeEnd(ByteString.copyFrom(new byte[] {0}))).build();
    RequestOp ignoreValueK2 = RequestOp.newBuilder().setRequestPut(
        PutRequest.newBuilder().setKey(bs("k2")).setIgnoreValue(true)).build();
    TxnRequest nested = TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder().addSuccess(deleteFromK)))
        .addSuccess(ignoreValueK2)
        .build();
    for (TxnRequest t : List.of(TxnRequest.newBuilder().addSuccess(deleteFromK).addSuccess(ignoreValueK2).build(),
        nested)) {
      assertEquals(EtcdError.KEY_NOT_FOUND, assertThrows(EtcdException.class, () -> txn(t)).error());
      assertEquals(before, store.committedRevision());
      assertEquals(2, range(RangeRequest.newBuilder().setKey(bs("k")).setRangeEnd(bs("l"))).getCount());
    }

    // put again after the delete, the key exists for the put after that (the API refuses a key put twice in a
    // txn; the check follows it anyway)
    TxnRequest recreated = TxnRequest.newBuilder().addSuccess(deleteFromK).addSuccess(putOp("k2", "new"))
        .addSuccess(RequestOp.newBuilder().setRequestPut(
            PutRequest.newBuilder().setKey(bs("k2")).setIgnoreLease(true).setValue(bs("newer"))))
        .build();
    assertTrue(txn(recreated).getSucceeded());
    RangeResponse after = range(RangeRequest.newBuilder().setKey(bs("k")).setRangeEnd(bs("l")));
    assertEquals(List.of("k2=newer"), after.getKvsList().stream()
        .map(kv -> kv.getKey().toStringUtf8() + "=" + kv.getValue().toStringUtf8()).toList());
  }

  @Test
  void errorKindsOfPutAndOfRangesInsideATxn() {
    assertEquals(EtcdError.KEY_NOT_FOUND, assertThrows(EtcdException.class, () -> write(t -> KvOps.put(t,
        PutRequest.newBuilder().setKey(bs("missing")).setIgnoreLease(true).build()))).error());
    long rev = put("k", "v");
    TxnRequest future = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(
        RangeRequest.newBuilder().setKey(bs("k")).setRevision(rev + 5))).build();
    assertEquals(EtcdError.FUTURE_REV,
        assertThrows(EtcdException.class, () -> KvOps.readOnlyTxn(store.read(), future)).error());
    put("k", "v2");
    write(t -> store.compact(rev + 1)).run();
    TxnRequest compacted = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(
        RangeRequest.newBuilder().setKey(bs("k")).setRevision(rev))).build();
    assertEquals(EtcdError.COMPACTED,
        assertThrows(EtcdException.class, () -> KvOps.readOnlyTxn(store.read(), compacted)).error());
  }

  @Test
  void aLimitCutsTheRangeAndSetsMoreWhileTheCountIsOfAll() {
    for (String k : List.of("p/a", "p/b", "p/c", "p/d")) {
      put(k, "v");
    }
    RangeResponse r = range(RangeRequest.newBuilder().setKey(bs("p/")).setRangeEnd(bs("p0")).setLimit(2));
    assertEquals(List.of("p/a", "p/b"), keys(r));
    assertTrue(r.getMore());
    assertEquals(4, r.getCount());

    RangeResponse all = range(RangeRequest.newBuilder().setKey(bs("p/")).setRangeEnd(bs("p0")).setLimit(4));
    assertFalse(all.getMore());
    RangeResponse countOnly = range(RangeRequest.newBuilder().setKey(bs("p/")).setRangeEnd(bs("p0")).setCountOnly(true));
    assertEquals(List.of(), keys(countOnly));
    assertEquals(4, countOnly.getCount());
  }

  @Test
  void sortingByAnotherTargetSortsTheWholeRangeBeforeTheLimitOnlyWhenAnOrderIsGiven() {
    put("s/a", "3");
    put("s/b", "1");
    put("s/c", "2");
    put("s/a", "4");
    put("s/d", "0"); // the latest mod revision, the lowest value
    RangeRequest.Builder byModDescending = RangeRequest.newBuilder().setKey(bs("s/")).setRangeEnd(bs("s0"))
        .setSortTarget(RangeRequest.SortTarget.MOD).setSortOrder(RangeRequest.SortOrder.DESCEND).setLimit(2);
    assertEquals(List.of("s/d", "s/a"), keys(range(byModDescending)));

    RangeRequest.Builder byValue = RangeRequest.newBuilder().setKey(bs("s/")).setRangeEnd(bs("s0"))
        .setSortTarget(RangeRequest.SortTarget.VALUE).setSortOrder(RangeRequest.SortOrder.ASCEND);
    assertEquals(List.of("s/d", "s/b", "s/c", "s/a"), keys(range(byValue)));

    // as etcd: with no order, the limit (plus one, for 'more') is taken first in key order, then what came is
    // sorted by the target and cut to the limit: a, b, c -> b, c (not d, b, as a sort of the whole range)
    RangeRequest.Builder byValueNoOrder = RangeRequest.newBuilder().setKey(bs("s/")).setRangeEnd(bs("s0"))
        .setSortTarget(RangeRequest.SortTarget.VALUE).setLimit(2);
    RangeResponse r = range(byValueNoOrder);
    assertEquals(List.of("s/b", "s/c"), keys(r));
    assertTrue(r.getMore());
  }

  @Test
  void keysOnlyAndPrevKv() {
    put("k", "v1");
    PutRequest withPrev = PutRequest.newBuilder().setKey(bs("k")).setValue(bs("v2")).setPrevKv(true).build();
    KeyValue prev = write(t -> KvOps.put(t, withPrev)).getPrevKv();
    assertEquals(bs("v1"), prev.getValue());
    RangeResponse keysOnly = range(RangeRequest.newBuilder().setKey(bs("k")).setKeysOnly(true));
    assertEquals(ByteString.EMPTY, keysOnly.getKvs(0).getValue());
    assertEquals(2, keysOnly.getKvs(0).getVersion());
  }
}
