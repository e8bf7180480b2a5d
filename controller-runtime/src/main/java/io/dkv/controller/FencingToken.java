package io.dkv.controller;

import io.dkv.client.DkvClient;
import io.dkv.client.GuardedResult;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * Proof of leadership for fenced writes: the leader key and its create revision, which is larger for every
 * later leader. A write guarded by {@link #guard()} is applied only while this leader's key still exists with
 * that create revision, so a deposed leader's late writes are refused by the server.
 *
 * <pre>{@code
 * FencingToken token = manager.fencingToken().orElseThrow();
 * client.jetcd().getKVClient().txn()
 *     .If(token.guard())
 *     .Then(Op.put(key, value, PutOption.DEFAULT))
 *     .commit();
 * // or simply:
 * GuardedResult r = token.put(client, "/status/job-1", "running");
 * }</pre>
 *
 * @param leaderKey the leader's key in the election
 * @param revision  the create revision of that key
 */
public record FencingToken(String leaderKey, long revision) {

  public FencingToken {
    Objects.requireNonNull(leaderKey, "leaderKey");
    if (revision <= 0) {
      throw new IllegalArgumentException("a fencing token's revision must be positive, got " + revision);
    }
  }

  /** The transaction comparison that holds only while this leadership holds. */
  public Cmp guard() {
    return new Cmp(bytes(leaderKey), Cmp.Op.EQUAL, CmpTarget.createRevision(revision));
  }

  /** Puts {@code value} (UTF-8) under {@code key} only while this leadership holds. */
  public GuardedResult put(DkvClient client, String key, String value) {
    TxnResponse r = Futures.await(client.jetcd().getKVClient().txn()
        .If(guard())
        .Then(Op.put(bytes(key), bytes(value), PutOption.DEFAULT))
        .commit(), Duration.ofSeconds(30), "fenced put of " + key);
    return new GuardedResult(r.isSucceeded() ? GuardedResult.Status.OK : GuardedResult.Status.LOCK_LOST,
        r.getHeader().getRevision());
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
