package io.dkv.client;

import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import java.util.Objects;

/**
 * Proof of holding a lock or a leadership: the lock (or leader) key and its create revision, which is larger for
 * every later holder. A write fenced by it ({@link #put}, {@link #delete}, or any transaction under
 * {@link #guard()}) is applied only while that key still exists with that create revision, so a former holder's
 * late writes are refused by the server. Hand {@link #revision()} to other resources you protect, so they can
 * refuse requests carrying an older one.
 *
 * <pre>{@code
 * FencingToken token = lockHandle.fencingToken();   // or leadership.fencingToken(), manager.fencingToken()
 * FencedWrite w = token.put(client, "/status/job-1", "running");
 * client.jetcd().getKVClient().txn().If(token.guard()).Then(...).commit();   // anything else
 * }</pre>
 *
 * @param key      the lock or leader key
 * @param revision the create revision of that key
 */
public record FencingToken(String key, long revision) {

  public FencingToken {
    Objects.requireNonNull(key, "key");
    if (revision <= 0) {
      throw new IllegalArgumentException("a fencing token's revision must be positive, got " + revision);
    }
  }

  /** The transaction comparison that holds only while the key exists with this token's create revision. */
  public Cmp guard() {
    return new Cmp(Keys.bytes(key), Cmp.Op.EQUAL, CmpTarget.createRevision(revision));
  }

  /** Writes {@code value} (UTF-8) under {@code key} only while this token holds. */
  public FencedWrite put(DkvClient client, String key, String value) {
    return put(client, key, value, Codec.string());
  }

  /** Writes {@code value} under {@code key} only while this token holds. */
  public <T> FencedWrite put(DkvClient client, String key, T value, Codec<T> codec) {
    return fenced(client, Op.put(Keys.bytes(key), Keys.bytes(codec.encode(value)), PutOption.DEFAULT));
  }

  /** Deletes {@code key} only while this token holds (applied whether or not the key existed). */
  public FencedWrite delete(DkvClient client, String key) {
    return fenced(client, Op.delete(Keys.bytes(key), DeleteOption.DEFAULT));
  }

  private FencedWrite fenced(DkvClient client, Op op) {
    TxnResponse r = client.await(client.jetcd().getKVClient().txn().If(guard()).Then(op).commit());
    return new FencedWrite(r.isSucceeded(), r.getHeader().getRevision());
  }
}
