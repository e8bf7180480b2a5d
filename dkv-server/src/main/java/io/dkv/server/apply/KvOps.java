package io.dkv.server.apply;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.Keys;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.mvcc.RangeResult;
import io.dkv.server.mvcc.ReadView;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.DeleteRangeResponse;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.PutResponse;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.ResponseOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * The KV requests' meaning, as etcd's applier gives it: Range, Put, DeleteRange and Txn over a read view or
 * a write transaction. Responses carry only the header revision; the API layer fills in the ids.
 */
public final class KvOps {

  private KvOps() {}

  /** Etcd's Range: filters, sort, limit, {@code more}, keys_only and count_only. */
  public static RangeResponse range(ReadView view, RangeRequest r) {
    long limit = r.getLimit();
    boolean filtered = r.getMinModRevision() != 0 || r.getMaxModRevision() != 0
        || r.getMinCreateRevision() != 0 || r.getMaxCreateRevision() != 0;
    // an explicit order other than the index's own (ascending keys) needs everything fetched, sorted, truncated;
    // with no order, etcd applies the limit first (and then sorts what it got by a non-key target, see below)
    boolean keyAscending = r.getSortTarget() == RangeRequest.SortTarget.KEY
        && r.getSortOrder() == RangeRequest.SortOrder.ASCEND;
    if ((r.getSortOrder() != RangeRequest.SortOrder.NONE && !keyAscending) || filtered) {
      limit = 0;
    }
    if (limit > 0) {
      limit++; // one more, for the 'more' flag
    }
    RangeResult rr = view.range(r.getKey(), r.getRangeEnd(), limit, r.getRevision(), r.getCountOnly());
    List<KeyValue> kvs = rr.kvs();
    if (filtered) {
      kvs = new ArrayList<>(kvs);
      prune(kvs, r.getMaxModRevision() != 0, kv -> kv.getModRevision() > r.getMaxModRevision());
      prune(kvs, r.getMinModRevision() != 0, kv -> kv.getModRevision() < r.getMinModRevision());
      prune(kvs, r.getMaxCreateRevision() != 0, kv -> kv.getCreateRevision() > r.getMaxCreateRevision());
      prune(kvs, r.getMinCreateRevision() != 0, kv -> kv.getCreateRevision() < r.getMinCreateRevision());
    }
    RangeRequest.SortOrder order = r.getSortOrder();
    if (r.getSortTarget() != RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.NONE) {
      order = RangeRequest.SortOrder.ASCEND; // results come sorted by key; other targets need sorting
    }
    if (!keyAscending && (order == RangeRequest.SortOrder.ASCEND || order == RangeRequest.SortOrder.DESCEND)) {
      Comparator<KeyValue> c = comparator(r.getSortTarget());
      kvs = new ArrayList<>(kvs);
      kvs.sort(order == RangeRequest.SortOrder.DESCEND ? c.reversed() : c);
    }
    RangeResponse.Builder resp = RangeResponse.newBuilder()
        .setHeader(header(rr.rev()))
        .setCount(rr.count());
    if (r.getLimit() > 0 && kvs.size() > r.getLimit()) {
      kvs = kvs.subList(0, (int) r.getLimit());
      resp.setMore(true);
    }
    for (KeyValue kv : kvs) {
      resp.addKvs(r.getKeysOnly() ? kv.toBuilder().clearValue().build() : kv);
    }
    return resp.build();
  }

  private static void prune(List<KeyValue> kvs, boolean active, Predicate<KeyValue> drop) {
    if (active) {
      kvs.removeIf(drop);
    }
  }

  private static Comparator<KeyValue> comparator(RangeRequest.SortTarget target) {
    Comparator<ByteString> bytes = ByteString.unsignedLexicographicalComparator();
    return switch (target) {
      case VERSION -> Comparator.comparingLong(KeyValue::getVersion);
      case CREATE -> Comparator.comparingLong(KeyValue::getCreateRevision);
      case MOD -> Comparator.comparingLong(KeyValue::getModRevision);
      case VALUE -> Comparator.comparing(KeyValue::getValue, bytes);
      default -> Comparator.comparing(KeyValue::getKey, bytes);
    };
  }

  static ResponseHeader header(long rev) {
    return ResponseHeader.newBuilder().setRevision(rev).build();
  }

  /** Etcd's Put within a write transaction. */
  static PutResponse put(MvccStore.WriteTxn txn, PutRequest p) {
    ByteString value = p.getValue();
    long lease = p.getLease();
    KeyValue prev = null;
    if (p.getIgnoreValue() || p.getIgnoreLease() || p.getPrevKv()) {
      List<KeyValue> kvs = txn.range(p.getKey(), ByteString.EMPTY, 0, 0, false).kvs();
      prev = kvs.isEmpty() ? null : kvs.get(0);
    }
    if ((p.getIgnoreValue() || p.getIgnoreLease()) && prev == null) {
      throw EtcdError.KEY_NOT_FOUND.exception();
    }
    if (p.getIgnoreValue()) {
      value = prev.getValue();
    }
    if (p.getIgnoreLease()) {
      lease = prev.getLease();
    }
    PutResponse.Builder resp = PutResponse.newBuilder();
    if (p.getPrevKv() && prev != null) {
      resp.setPrevKv(prev);
    }
    return resp.setHeader(header(txn.put(p.getKey(), value, lease))).build();
  }

  /** Etcd's DeleteRange within a write transaction. */
  static DeleteRangeResponse deleteRange(MvccStore.WriteTxn txn, DeleteRangeRequest d) {
    DeleteRangeResponse.Builder resp = DeleteRangeResponse.newBuilder();
    if (d.getPrevKv()) {
      resp.addAllPrevKvs(txn.range(d.getKey(), d.getRangeEnd(), 0, 0, false).kvs());
    }
    long deleted = txn.deleteRange(d.getKey(), d.getRangeEnd());
    return resp.setDeleted(deleted).setHeader(header(txn.rev())).build();
  }

  /** True if no branch of the txn writes (it can run on a read view). */
  public static boolean isReadOnly(TxnRequest t) {
    for (RequestOp op : t.getSuccessList()) {
      if (!op.hasRequestRange()) {
        return false;
      }
    }
    for (RequestOp op : t.getFailureList()) {
      if (!op.hasRequestRange()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Etcd's Txn. All compares, nested ones included, are evaluated first, on the state before the txn; then
   * the ops of the chosen branches are checked (leases, ignore_value/ignore_lease keys, range revisions);
   * only then does anything change, so a failing txn changes nothing.
   */
  static TxnResponse txn(MvccStore.WriteTxn writer, TxnRequest t, LeaseCheck leases) {
    return txn(writer, writer, t, leases);
  }

  /** A txn whose branches only read ({@link #isReadOnly}), on a read view. */
  public static TxnResponse readOnlyTxn(ReadView view, TxnRequest t) {
    return txn(view, null, t, lease -> false);
  }

  private static TxnResponse txn(ReadView view, MvccStore.WriteTxn writer, TxnRequest t, LeaseCheck leases) {
    List<Boolean> path = new ArrayList<>();
    compareToPath(view, t, path);
    if (writer != null) {
      checkRequests(t, path, new int[] {0}, new PutCheck(view, leases));
    }
    checkRequests(t, path, new int[] {0}, op -> checkRange(view, op));
    TxnResponse.Builder resp = applyTxn(view, writer, t, path, new int[] {0});
    return resp.setHeader(header(view.rev())).build();
  }

  /** Whether a lease exists; puts naming an unknown lease fail. */
  @FunctionalInterface
  public interface LeaseCheck {
    boolean exists(long lease);
  }

  private static void compareToPath(ReadView view, TxnRequest t, List<Boolean> path) {
    boolean ok = applyCompares(view, t.getCompareList());
    path.add(ok);
    for (RequestOp op : ok ? t.getSuccessList() : t.getFailureList()) {
      if (op.hasRequestTxn()) {
        compareToPath(view, op.getRequestTxn(), path);
      }
    }
  }

  private static void checkRequests(TxnRequest t, List<Boolean> path, int[] pos, java.util.function.Consumer<RequestOp> check) {
    boolean ok = path.get(pos[0]++);
    for (RequestOp op : ok ? t.getSuccessList() : t.getFailureList()) {
      if (op.hasRequestTxn()) {
        checkRequests(op.getRequestTxn(), path, pos, check);
      } else {
        check.accept(op);
      }
    }
  }

  /**
   * Checks the chosen branches' puts in the order they will run: a put with ignore_value or ignore_lease needs
   * its key to exist at that point, so deletes and puts earlier in the same txn count. Etcd checks against the
   * state before the txn only, and its duplicate-key check reads a delete's range_end "\0" as an empty range,
   * so a delete-from-key followed by such a put on a deleted key passes its checks and fails half applied
   * (etcd panics on it, and again on every restart). Here it fails before anything changes.
   */
  private static final class PutCheck implements java.util.function.Consumer<RequestOp> {
    private final ReadView view;
    private final LeaseCheck leases;
    private final List<DeleteRangeRequest> deletes = new ArrayList<>();
    private final List<ByteString> puts = new ArrayList<>(); // keys put since the last delete covering them

    PutCheck(ReadView view, LeaseCheck leases) {
      this.view = view;
      this.leases = leases;
    }

    @Override
    public void accept(RequestOp op) {
      if (op.hasRequestDeleteRange()) {
        DeleteRangeRequest d = op.getRequestDeleteRange();
        deletes.add(d);
        puts.removeIf(k -> Keys.inRange(d.getKey(), d.getRangeEnd(), k));
        return;
      }
      if (!op.hasRequestPut()) {
        return;
      }
      PutRequest p = op.getRequestPut();
      if ((p.getIgnoreValue() || p.getIgnoreLease()) && !exists(p.getKey())) {
        throw EtcdError.KEY_NOT_FOUND.exception();
      }
      if (p.getLease() != 0 && !leases.exists(p.getLease())) {
        throw EtcdError.LEASE_NOT_FOUND.exception();
      }
      puts.add(p.getKey());
    }

    private boolean exists(ByteString key) {
      if (puts.contains(key)) {
        return true;
      }
      for (DeleteRangeRequest d : deletes) {
        if (Keys.inRange(d.getKey(), d.getRangeEnd(), key)) {
          return false;
        }
      }
      return !view.range(key, ByteString.EMPTY, 0, 0, false).kvs().isEmpty();
    }

  }

  private static void checkRange(ReadView view, RequestOp op) {
    if (!op.hasRequestRange()) {
      return;
    }
    long rev = op.getRequestRange().getRevision();
    if (rev == 0) {
      return;
    }
    if (rev > view.rev()) {
      throw EtcdError.FUTURE_REV.exception();
    }
    if (rev < view.firstRev()) {
      throw EtcdError.COMPACTED.exception();
    }
  }

  private static TxnResponse.Builder applyTxn(ReadView view, MvccStore.WriteTxn writer, TxnRequest t,
      List<Boolean> path, int[] pos) {
    boolean ok = path.get(pos[0]++);
    TxnResponse.Builder resp = TxnResponse.newBuilder().setSucceeded(ok);
    for (RequestOp op : ok ? t.getSuccessList() : t.getFailureList()) {
      ResponseOp.Builder r = ResponseOp.newBuilder();
      switch (op.getRequestCase()) {
        case REQUEST_RANGE -> r.setResponseRange(range(view, op.getRequestRange()));
        case REQUEST_PUT -> r.setResponsePut(put(writer, op.getRequestPut()));
        case REQUEST_DELETE_RANGE -> r.setResponseDeleteRange(deleteRange(writer, op.getRequestDeleteRange()));
        case REQUEST_TXN -> r.setResponseTxn(
            applyTxn(view, writer, op.getRequestTxn(), path, pos).setHeader(ResponseHeader.getDefaultInstance()));
        default -> { }
      }
      resp.addResponses(r);
    }
    return resp;
  }

  private static long leaseTarget(Compare c) {
    var field = c.getUnknownFields().getField(LEASE_FIELD);
    return field == null || field.getVarintList().isEmpty() ? 0 : field.getVarintList().get(field.getVarintList().size() - 1);
  }

  private static boolean applyCompares(ReadView view, List<Compare> compares) {
    for (Compare c : compares) {
      if (!applyCompare(view, c)) {
        return false;
      }
    }
    return true;
  }

  private static boolean applyCompare(ReadView view, Compare c) {
    List<KeyValue> kvs = view.range(c.getKey(), c.getRangeEnd(), 0, 0, false).kvs();
    if (kvs.isEmpty()) {
      // a missing key compares as all zero, but never equal to a value (nil is no value)
      return c.getTargetValue() != Compare.CompareTarget.VALUE_VALUE && compareKv(c, KeyValue.getDefaultInstance());
    }
    for (KeyValue kv : kvs) {
      if (!compareKv(c, kv)) {
        return false;
      }
    }
    return true;
  }

  /** Etcd's LEASE compare target (4) and its target field (8), which jetcd's older proto lacks. */
  private static final int TARGET_LEASE = 4;
  private static final int LEASE_FIELD = 8;

  private static boolean compareKv(Compare c, KeyValue kv) {
    int result = switch (c.getTargetValue()) {
      case Compare.CompareTarget.VALUE_VALUE -> ByteString.unsignedLexicographicalComparator().compare(kv.getValue(),
          c.getTargetUnionCase() == Compare.TargetUnionCase.VALUE ? c.getValue() : ByteString.EMPTY);
      case Compare.CompareTarget.CREATE_VALUE -> Long.compare(kv.getCreateRevision(),
          c.getTargetUnionCase() == Compare.TargetUnionCase.CREATE_REVISION ? c.getCreateRevision() : 0);
      case Compare.CompareTarget.MOD_VALUE -> Long.compare(kv.getModRevision(),
          c.getTargetUnionCase() == Compare.TargetUnionCase.MOD_REVISION ? c.getModRevision() : 0);
      case Compare.CompareTarget.VERSION_VALUE -> Long.compare(kv.getVersion(),
          c.getTargetUnionCase() == Compare.TargetUnionCase.VERSION ? c.getVersion() : 0);
      case TARGET_LEASE -> Long.compare(kv.getLease(), leaseTarget(c));
      default -> 0;
    };
    return switch (c.getResult()) {
      case EQUAL -> result == 0;
      case NOT_EQUAL -> result != 0;
      case GREATER -> result > 0;
      case LESS -> result < 0;
      default -> true;
    };
  }
}
