package io.dkv.resources;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.client.DkvClient;
import io.dkv.client.DkvException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The etcd operations of the resource store: reads, and writes that are one transaction each. */
final class ObjectStore {

  /** A stored object as a JSON tree, with its key's mod revision. */
  record Stored(String key, ObjectNode tree, long modRevision) {
  }

  /** The result of a guarded write: whether the guard held, the write's revision, and the current state if not. */
  record Outcome(boolean succeeded, long revision, Optional<Stored> current) {
  }

  private final DkvClient client;
  private final KV kv;
  private final Json json;
  private final Duration timeout;

  ObjectStore(DkvClient client, Json json, Duration timeout) {
    this.client = client;
    this.kv = client.jetcd().getKVClient();
    this.json = json;
    this.timeout = timeout;
  }

  DkvClient client() {
    return client;
  }

  Optional<Stored> get(String key) {
    GetResponse r = await(kv.get(bytes(key)));
    return r.getKvs().isEmpty() ? Optional.empty() : Optional.of(stored(r.getKvs().get(0)));
  }

  /** Every object under {@code prefix}, in key order. */
  List<Stored> list(String prefix) {
    GetResponse r = await(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()));
    List<Stored> out = new ArrayList<>(r.getKvs().size());
    for (KeyValue k : r.getKvs()) {
      out.add(stored(k));
    }
    return out;
  }

  /** Puts {@code tree} under {@code key} if the key does not exist. */
  Outcome create(String key, ObjectNode tree) {
    ByteSequence k = bytes(key);
    TxnResponse r = await(kv.txn()
        .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0)))
        .Then(Op.put(k, ByteSequence.from(json.bytes(tree)), PutOption.DEFAULT))
        .Else(Op.get(k, GetOption.DEFAULT))
        .commit());
    return outcome(r);
  }

  /** Puts {@code tree} under {@code key} if the key's mod revision is {@code modRevision}. */
  Outcome put(String key, long modRevision, ObjectNode tree) {
    ByteSequence k = bytes(key);
    return outcome(await(kv.txn()
        .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision)))
        .Then(Op.put(k, ByteSequence.from(json.bytes(tree)), PutOption.DEFAULT))
        .Else(Op.get(k, GetOption.DEFAULT))
        .commit()));
  }

  /** Deletes {@code key} if its mod revision is {@code modRevision}. */
  Outcome delete(String key, long modRevision) {
    ByteSequence k = bytes(key);
    return outcome(await(kv.txn()
        .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision)))
        .Then(Op.delete(k, DeleteOption.DEFAULT))
        .Else(Op.get(k, GetOption.DEFAULT))
        .commit()));
  }

  private Outcome outcome(TxnResponse r) {
    if (r.isSucceeded()) {
      return new Outcome(true, r.getHeader().getRevision(), Optional.empty());
    }
    List<KeyValue> kvs = r.getGetResponses().isEmpty() ? List.of() : r.getGetResponses().get(0).getKvs();
    return new Outcome(false, r.getHeader().getRevision(),
        kvs.isEmpty() ? Optional.empty() : Optional.of(stored(kvs.get(0))));
  }

  private Stored stored(KeyValue k) {
    return new Stored(k.getKey().toString(StandardCharsets.UTF_8), json.parse(k.getValue().getBytes()),
        k.getModRevision());
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private <R> R await(CompletableFuture<R> f) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new DkvException("interrupted", e);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new DkvException("no answer within " + timeout, e);
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new DkvException(String.valueOf(cause.getMessage()), cause);
    }
  }
}
