package io.dkv.server.api;

import com.google.protobuf.Message;
import io.dkv.server.apply.KvOps;
import io.dkv.server.apply.Proposer;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.CompactionResponse;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.DeleteRangeResponse;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.PutResponse;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.grpc.stub.StreamObserver;

/** Etcd's KV service: reads on the caller's thread at the committed revision, writes through the proposer. */
final class KvService extends KVGrpc.KVImplBase {

  /** Bytes etcd adds around a request when it wraps it for its log (header and field tags). */
  private static final int LOG_ENTRY_OVERHEAD = 18;

  private final MvccStore store;
  private final Proposer proposer;
  private final Headers headers;
  private final KvOps.LeaseCheck leases;
  private final long maxRequestBytes;
  private final int maxTxnOps;

  KvService(MvccStore store, Proposer proposer, Headers headers, KvOps.LeaseCheck leases,
      long maxRequestBytes, int maxTxnOps) {
    this.store = store;
    this.proposer = proposer;
    this.headers = headers;
    this.leases = leases;
    this.maxRequestBytes = maxRequestBytes;
    this.maxTxnOps = maxTxnOps;
  }

  @Override
  public void range(RangeRequest r, StreamObserver<RangeResponse> obs) {
    read(r.getSerializable(), obs, () -> {
      RequestChecks.checkRange(r);
      RangeResponse resp = KvOps.range(store.read(), r);
      return resp.toBuilder().setHeader(headers.fill(resp.getHeader())).build();
    });
  }

  /** A serializable read answers from the local state at once; a linearizable one after a ReadIndex. */
  private <T> void read(boolean serializable, StreamObserver<T> obs, java.util.function.Supplier<T> body) {
    if (serializable) {
      Calls.answer(obs, body);
    } else {
      Calls.answerAfter(proposer.readBarrier(), obs, body);
    }
  }

  /** Etcd's isTxnSerializable: a read-only txn whose every range is serializable. */
  private static boolean serializable(TxnRequest t) {
    for (var op : t.getSuccessList()) {
      if (!op.getRequestRange().getSerializable()) {
        return false;
      }
    }
    for (var op : t.getFailureList()) {
      if (!op.getRequestRange().getSerializable()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void put(PutRequest r, StreamObserver<PutResponse> obs) {
    write(r, obs, () -> RequestChecks.checkPut(r), (PutResponse p) ->
        p.toBuilder().setHeader(headers.fill(p.getHeader())).build());
  }

  @Override
  public void deleteRange(DeleteRangeRequest r, StreamObserver<DeleteRangeResponse> obs) {
    write(r, obs, () -> RequestChecks.checkDelete(r), (DeleteRangeResponse d) ->
        d.toBuilder().setHeader(headers.fill(d.getHeader())).build());
  }

  @Override
  public void txn(TxnRequest r, StreamObserver<TxnResponse> obs) {
    if (KvOps.isReadOnly(r)) {
      read(serializable(r), obs, () -> {
        RequestChecks.checkTxn(r, maxTxnOps);
        return fill(KvOps.readOnlyTxn(store.read(), r));
      });
      return;
    }
    write(r, obs, () -> RequestChecks.checkTxn(r, maxTxnOps), this::fill);
  }

  private TxnResponse fill(TxnResponse t) {
    return t.toBuilder().setHeader(headers.fill(t.getHeader())).build();
  }

  @Override
  public void compact(CompactionRequest r, StreamObserver<CompactionResponse> obs) {
    write(r, obs, () -> { }, (CompactionResponse c) -> c.toBuilder().setHeader(headers.fill(c.getHeader())).build());
  }

  @SuppressWarnings("unchecked")
  private <R extends Message, T> void write(Message request, StreamObserver<T> obs, Runnable check,
      java.util.function.Function<R, T> finish) {
    try {
      check.run();
      if (request.getSerializedSize() + LOG_ENTRY_OVERHEAD > maxRequestBytes) {
        throw EtcdError.REQUEST_TOO_LARGE.exception();
      }
    } catch (RuntimeException e) {
      obs.onError(ErrorStatus.of(e).asRuntimeException());
      return;
    }
    Calls.answerAsync(obs, proposer.propose(request), m -> finish.apply((R) m));
  }
}
