package io.dkv.server.concurrency;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.Keys;
import io.dkv.server.apply.KvOps;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.ResponseHeader;
import java.util.concurrent.CompletableFuture;

/** Waiting for keys to be deleted, driven by committed events (as etcd's concurrency package watches). */
final class Waits {

  private final MvccStore store;
  private final CommitFeed feed;

  Waits(MvccStore store, CommitFeed feed) {
    this.store = store;
    this.feed = feed;
  }

  /**
   * Completes, with the header of the read that found none, once no key with {@code prefix} and a create
   * revision at most {@code maxCreateRev} is left (etcd's waitDeletes: wait for the newest such key to go,
   * then look again).
   */
  CompletableFuture<ResponseHeader> waitDeletes(ByteString prefix, long maxCreateRev) {
    RangeResponse r = KvOps.range(store.read(), RangeRequest.newBuilder().setKey(prefix)
        .setRangeEnd(Keys.prefixEnd(prefix)).setMaxCreateRevision(maxCreateRev)
        .setSortTarget(RangeRequest.SortTarget.CREATE).setSortOrder(RangeRequest.SortOrder.DESCEND)
        .setLimit(1).build());
    if (r.getKvsCount() == 0) {
      return CompletableFuture.completedFuture(r.getHeader());
    }
    return waitDelete(r.getKvs(0).getKey(), r.getHeader().getRevision())
        .thenCompose(v -> waitDeletes(prefix, maxCreateRev));
  }

  /** Completes once {@code key} is deleted after revision {@code rev} (at once if it is gone already). */
  CompletableFuture<Void> waitDelete(ByteString key, long rev) {
    CompletableFuture<Void> deleted = new CompletableFuture<>();
    CommitFeed.Subscription s = feed.subscribe(key, ByteString.EMPTY, e -> {
      if (e.getType() == Event.EventType.DELETE && e.getKv().getModRevision() > rev) {
        deleted.complete(null);
      }
    });
    deleted.whenComplete((v, err) -> s.close());
    if (store.read().range(key, ByteString.EMPTY, 1, 0, true).count() == 0) {
      deleted.complete(null); // deleted before we subscribed
    }
    return deleted;
  }
}
