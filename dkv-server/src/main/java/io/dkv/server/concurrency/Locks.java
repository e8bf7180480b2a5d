package io.dkv.server.concurrency;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.Keys;
import io.dkv.server.apply.Proposer;
import io.dkv.server.lease.Lessor;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.DeleteRangeResponse;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.etcd.jetcd.api.KeyValue;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Etcd's distributed mutex (v3lock, over client/v3/concurrency's Mutex): the owner of lock {@code name} is
 * the key {@code name/<lease hex>} with the smallest create revision; a caller creates its key under its
 * lease and waits, on committed events, until every older key of the lock is deleted.
 */
public final class Locks {

  /** An acquired lock: the header of the read that granted it, and the ownership key. */
  public record Acquired(ResponseHeader header, ByteString key) {}

  private final Proposer proposer;
  private final Sessions sessions;
  private final Waits waits;

  public Locks(Proposer proposer, Lessor lessor, MvccStore store, CommitFeed feed) {
    this.proposer = proposer;
    this.sessions = new Sessions(proposer, lessor);
    this.waits = new Waits(store, feed);
  }

  /**
   * Acquires lock {@code name} for {@code lease} (0: a new 60 s lease). Locking again with the same lease
   * is the same acquisition. If {@code canceled} completes first, the caller's key is deleted and the
   * result fails.
   */
  public CompletableFuture<Acquired> lock(ByteString name, long lease, CompletableFuture<Void> canceled) {
    ByteString prefix = name.concat(ByteString.copyFromUtf8("/"));
    return sessions.lease(lease).thenCompose(id -> {
      ByteString myKey = prefix.concat(ByteString.copyFromUtf8(Long.toHexString(id)));
      RequestOp owner = firstCreated(prefix);
      TxnRequest txn = TxnRequest.newBuilder()
          .addCompare(Compare.newBuilder().setKey(myKey).setTarget(Compare.CompareTarget.CREATE)
              .setResult(Compare.CompareResult.EQUAL).setCreateRevision(0))
          .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(myKey).setLease(id)))
          .addSuccess(owner)
          .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(myKey)))
          .addFailure(owner)
          .build();
      return proposer.propose(txn).thenCompose(m -> {
        TxnResponse resp = (TxnResponse) m;
        long myRev = resp.getSucceeded() ? resp.getHeader().getRevision()
            : resp.getResponses(0).getResponseRange().getKvs(0).getCreateRevision();
        List<KeyValue> first = resp.getResponses(1).getResponseRange().getKvsList();
        if (first.isEmpty() || first.get(0).getCreateRevision() == myRev) {
          return CompletableFuture.completedFuture(new Acquired(resp.getHeader(), myKey));
        }
        CompletableFuture<ResponseHeader> waited = waits.waitDeletes(prefix, myRev - 1);
        canceled.whenComplete((v, err) -> {
          if (waited.cancel(false)) {
            unlock(myKey);
          }
        });
        return waited.thenApply(h -> new Acquired(h, myKey));
      });
    });
  }

  /** Releases a lock by deleting its ownership key; completes with the delete's header. */
  public CompletableFuture<ResponseHeader> unlock(ByteString key) {
    return proposer.propose(DeleteRangeRequest.newBuilder().setKey(key).build())
        .thenApply(m -> ((DeleteRangeResponse) m).getHeader());
  }

  /** etcd's OpGet(prefix, WithFirstCreate()): the key of the prefix created first. */
  static RequestOp firstCreated(ByteString prefix) {
    return RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(prefix)
        .setRangeEnd(Keys.prefixEnd(prefix)).setSortTarget(RangeRequest.SortTarget.CREATE)
        .setSortOrder(RangeRequest.SortOrder.ASCEND).setLimit(1)).build();
  }
}
