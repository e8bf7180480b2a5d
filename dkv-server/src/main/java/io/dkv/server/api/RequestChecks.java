package io.dkv.server.api;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.EtcdError;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The checks etcd makes on KV requests before they reach the store, with etcd's errors. */
final class RequestChecks {

  private RequestChecks() {}

  static void checkRange(RangeRequest r) {
    if (r.getKey().isEmpty()) {
      throw EtcdError.EMPTY_KEY.exception();
    }
  }

  static void checkPut(PutRequest r) {
    if (r.getKey().isEmpty()) {
      throw EtcdError.EMPTY_KEY.exception();
    }
    if (r.getIgnoreValue() && !r.getValue().isEmpty()) {
      throw EtcdError.VALUE_PROVIDED.exception();
    }
    if (r.getIgnoreLease() && r.getLease() != 0) {
      throw EtcdError.LEASE_PROVIDED.exception();
    }
  }

  static void checkDelete(DeleteRangeRequest r) {
    if (r.getKey().isEmpty()) {
      throw EtcdError.EMPTY_KEY.exception();
    }
  }

  /** Sizes, keys and ops of a txn, then puts and deletes that touch the same key. */
  static void checkTxn(TxnRequest r, int maxTxnOps) {
    checkTxnOps(r, maxTxnOps);
    checkIntervals(r.getSuccessList());
    checkIntervals(r.getFailureList());
  }

  private static void checkTxnOps(TxnRequest r, int maxTxnOps) {
    int opc = Math.max(r.getCompareCount(), Math.max(r.getSuccessCount(), r.getFailureCount()));
    if (opc > maxTxnOps) {
      throw EtcdError.TOO_MANY_OPS.exception();
    }
    for (Compare c : r.getCompareList()) {
      if (c.getKey().isEmpty()) {
        throw EtcdError.EMPTY_KEY.exception();
      }
    }
    for (RequestOp op : r.getSuccessList()) {
      checkOp(op, maxTxnOps - opc);
    }
    for (RequestOp op : r.getFailureList()) {
      checkOp(op, maxTxnOps - opc);
    }
  }

  private static void checkOp(RequestOp op, int maxTxnOps) {
    switch (op.getRequestCase()) {
      case REQUEST_RANGE -> checkRange(op.getRequestRange());
      case REQUEST_PUT -> checkPut(op.getRequestPut());
      case REQUEST_DELETE_RANGE -> checkDelete(op.getRequestDeleteRange());
      case REQUEST_TXN -> checkTxnOps(op.getRequestTxn(), maxTxnOps);
      default -> throw EtcdError.KEY_NOT_FOUND.exception(); // an empty op
    }
  }

  /** A key range [begin, end); a point when {@code end} is null. */
  private record Interval(ByteString begin, ByteString end) {
    boolean contains(ByteString k) {
      var cmp = ByteString.unsignedLexicographicalComparator();
      return end == null ? begin.equals(k) : cmp.compare(begin, k) <= 0 && cmp.compare(k, end) < 0;
    }
  }

  private record Writes(Set<ByteString> puts, List<Interval> dels) {
    boolean deletes(ByteString k) {
      for (Interval i : dels) {
        if (i.contains(k)) {
          return true;
        }
      }
      return false;
    }
  }

  /** Etcd's rule: within one branch, no key is put twice or both put and deleted, nested txns included. */
  private static Writes checkIntervals(List<RequestOp> ops) {
    Writes w = new Writes(new HashSet<>(), new ArrayList<>());
    for (RequestOp op : ops) {
      if (op.hasRequestDeleteRange()) {
        DeleteRangeRequest d = op.getRequestDeleteRange();
        w.dels().add(new Interval(d.getKey(), d.getRangeEnd().isEmpty() ? null : d.getRangeEnd()));
      }
    }
    for (RequestOp op : ops) {
      if (!op.hasRequestTxn()) {
        continue;
      }
      Writes then = checkIntervals(op.getRequestTxn().getSuccessList());
      Writes otherwise = checkIntervals(op.getRequestTxn().getFailureList());
      for (ByteString k : then.puts()) {
        if (w.puts().contains(k) || w.deletes(k)) {
          throw EtcdError.DUPLICATE_KEY.exception();
        }
        w.puts().add(k);
      }
      for (ByteString k : otherwise.puts()) {
        // a key from the other branch may repeat: only one branch runs
        if ((w.puts().contains(k) && !then.puts().contains(k)) || w.deletes(k)) {
          throw EtcdError.DUPLICATE_KEY.exception();
        }
        w.puts().add(k);
      }
      w.dels().addAll(then.dels());
      w.dels().addAll(otherwise.dels());
    }
    for (RequestOp op : ops) {
      if (!op.hasRequestPut()) {
        continue;
      }
      ByteString k = op.getRequestPut().getKey();
      if (w.puts().contains(k) || w.deletes(k)) {
        throw EtcdError.DUPLICATE_KEY.exception();
      }
      w.puts().add(k);
    }
    return w;
  }
}
