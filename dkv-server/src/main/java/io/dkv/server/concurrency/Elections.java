package io.dkv.server.concurrency;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.Keys;
import io.dkv.server.apply.KvOps;
import io.dkv.server.apply.Proposer;
import io.dkv.server.lease.Lessor;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.LeaderKey;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * Etcd's elections (v3election, over client/v3/concurrency's Election): the candidates of election
 * {@code name} are the keys {@code name/<lease hex>}; the leader is the one created first. Waiting for
 * leadership and observing leader changes are driven by committed events.
 */
public final class Elections {

  /** An election error, as etcd's concurrency package words it. */
  public static final class ElectionException extends RuntimeException {
    ElectionException(String message) {
      super(message, null, false, false);
    }
  }

  public static final String NO_LEADER = "election: no leader";
  public static final String NOT_LEADER = "election: not leader";

  /** What a call answered: its header, and for a campaign the leader key won. */
  public record Result(ResponseHeader header, LeaderKey leader) {}

  private final Proposer proposer;
  private final MvccStore store;
  private final CommitFeed feed;
  private final Sessions sessions;
  private final Waits waits;

  public Elections(Proposer proposer, Lessor lessor, MvccStore store, CommitFeed feed) {
    this.proposer = proposer;
    this.store = store;
    this.feed = feed;
    this.sessions = new Sessions(proposer, lessor);
    this.waits = new Waits(store, feed);
  }

  private static ByteString prefix(ByteString name) {
    return name.concat(ByteString.copyFromUtf8("/"));
  }

  /**
   * Campaigns in {@code name} under {@code lease} (0: a new 60 s lease) with {@code value}; completes once
   * this candidate leads. A candidate already running with the same lease proclaims the new value. If
   * {@code canceled} completes first, the candidacy is withdrawn and the result fails.
   */
  public CompletableFuture<Result> campaign(ByteString name, long lease, ByteString value,
      CompletableFuture<Void> canceled) {
    ByteString prefix = prefix(name);
    return sessions.lease(lease).thenCompose(id -> {
      ByteString key = prefix.concat(ByteString.copyFromUtf8(Long.toHexString(id)));
      TxnRequest txn = TxnRequest.newBuilder()
          .addCompare(createRevIs(key, 0))
          .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setValue(value)
              .setLease(id)))
          .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
          .build();
      return proposer.propose(txn).thenCompose(m -> {
        TxnResponse resp = (TxnResponse) m;
        long rev = resp.getHeader().getRevision();
        CompletableFuture<?> proclaimed = CompletableFuture.completedFuture(null);
        if (!resp.getSucceeded()) {
          KeyValue kv = resp.getResponses(0).getResponseRange().getKvs(0);
          rev = kv.getCreateRevision();
          if (!kv.getValue().equals(value)) {
            LeaderKey lk = LeaderKey.newBuilder().setName(name).setKey(key).setRev(rev).setLease(id).build();
            proclaimed = proclaim(lk, value).exceptionallyCompose(err -> resign(lk)
                .thenCompose(r -> CompletableFuture.failedFuture(err)));
          }
        }
        LeaderKey leader = LeaderKey.newBuilder().setName(name).setKey(key).setRev(rev).setLease(id).build();
        return proclaimed.thenCompose(p -> {
          CompletableFuture<ResponseHeader> waited = waits.waitDeletes(prefix, leader.getRev() - 1);
          canceled.whenComplete((v, err) -> {
            if (waited.cancel(false)) {
              resign(leader);
            }
          });
          return waited.thenApply(h -> new Result(resp.getHeader(), leader));
        });
      });
    });
  }

  /** Sets the leader's value, if {@code leader} still leads; fails with {@link #NOT_LEADER} otherwise. */
  public CompletableFuture<Result> proclaim(LeaderKey leader, ByteString value) {
    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(createRevIs(leader.getKey(), leader.getRev()))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(leader.getKey())
            .setValue(value).setLease(leader.getLease())))
        .build();
    return proposer.propose(txn).thenApply(m -> {
      TxnResponse resp = (TxnResponse) m;
      if (!resp.getSucceeded()) {
        throw new ElectionException(NOT_LEADER);
      }
      return new Result(resp.getHeader(), null);
    });
  }

  /** Gives up leadership (deletes the leader key if it is still the one {@code leader} names). */
  public CompletableFuture<Result> resign(LeaderKey leader) {
    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(createRevIs(leader.getKey(), leader.getRev()))
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder()
            .setKey(leader.getKey())))
        .build();
    return proposer.propose(txn).thenApply(m -> new Result(((TxnResponse) m).getHeader(), null));
  }

  /** The current leader's key-value and the read's header; fails with {@link #NO_LEADER} if none. */
  public RangeResponse leader(ByteString name) {
    RangeResponse r = firstCreated(prefix(name));
    if (r.getKvsCount() == 0) {
      throw new ElectionException(NO_LEADER);
    }
    return r;
  }

  private RangeResponse firstCreated(ByteString prefix) {
    return KvOps.range(store.read(), Locks.firstCreated(prefix).getRequestRange());
  }

  /**
   * Tells {@code sink}, on one thread and in order, the leader of {@code name} and every change of it
   * (a new value, a new leader), as etcd's Election.Observe: nothing while there is no leader. Stops when
   * {@code canceled} completes.
   */
  public void observe(ByteString name, BiConsumer<ResponseHeader, KeyValue> sink, CompletableFuture<Void> canceled) {
    new Observer(prefix(name), sink, canceled).start();
  }

  private final class Observer {
    private final ByteString prefix;
    private final BiConsumer<ResponseHeader, KeyValue> sink;
    private final CompletableFuture<Void> canceled;
    private CommitFeed.Subscription subscription;

    Observer(ByteString prefix, BiConsumer<ResponseHeader, KeyValue> sink, CompletableFuture<Void> canceled) {
      this.prefix = prefix;
      this.sink = sink;
      this.canceled = canceled;
    }

    void start() {
      canceled.whenComplete((v, e) -> feed.execute(this::unsubscribe));
      feed.execute(this::lookForLeader);
    }

    private void unsubscribe() {
      if (subscription != null) {
        subscription.close();
        subscription = null;
      }
    }

    /** On the feed thread: find the leader, or wait for the first candidate to appear. */
    private void lookForLeader() {
      unsubscribe();
      if (canceled.isDone()) {
        return;
      }
      long[] readRev = {Long.MAX_VALUE};
      subscription = feed.subscribe(prefix, Keys.prefixEnd(prefix), e -> {
        if (e.getType() == Event.EventType.PUT && e.getKv().getModRevision() > readRev[0]) {
          follow(ResponseHeader.newBuilder().setRevision(e.getKv().getModRevision()).build(), e.getKv());
        }
      });
      RangeResponse r = firstCreated(prefix);
      readRev[0] = r.getHeader().getRevision();
      if (r.getKvsCount() > 0) {
        follow(r.getHeader(), r.getKvs(0));
      }
    }

    /** On the feed thread: report {@code leader}, then its changes until it is deleted. */
    private void follow(ResponseHeader header, KeyValue leader) {
      unsubscribe();
      if (canceled.isDone()) {
        return;
      }
      sink.accept(header, leader);
      long from = header.getRevision();
      subscription = feed.subscribe(leader.getKey(), ByteString.EMPTY, e -> {
        if (e.getKv().getModRevision() <= from) {
          return;
        }
        if (e.getType() == Event.EventType.DELETE) {
          lookForLeader();
        } else {
          sink.accept(ResponseHeader.newBuilder().setRevision(e.getKv().getModRevision()).build(), e.getKv());
        }
      });
      // a deletion between the read and the subscription would be missed: look again
      if (store.read().range(leader.getKey(), ByteString.EMPTY, 1, 0, true).count() == 0) {
        lookForLeader();
      }
    }
  }

  private static Compare createRevIs(ByteString key, long rev) {
    return Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.CREATE)
        .setResult(Compare.CompareResult.EQUAL).setCreateRevision(rev).build();
  }
}
