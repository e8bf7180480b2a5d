package io.dkv.client;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An atomic 64-bit counter stored under one key as a decimal string (an absent key counts as 0). Every update
 * is a transaction conditioned on the key's mod revision, retried on contention, so no update is lost.
 *
 * <pre>{@code
 * Counter visits = client.counter("stats/visits");
 * long now = visits.add(1);
 * boolean reset = visits.compareAndSet(now, 0);
 * }</pre>
 */
public final class Counter {

  private final DkvClient client;
  private final String key;
  private final ByteSequence k;

  Counter(DkvClient client, String key) {
    this.client = client;
    this.key = key;
    this.k = Keys.bytes(key);
  }

  /** The key the counter lives under. */
  public String key() {
    return key;
  }

  /** The current value. */
  public long get() {
    return read().value;
  }

  /** Adds {@code delta} atomically; returns the value after the addition. */
  public long add(long delta) {
    State s = read();
    while (true) {
      long next = Math.addExact(s.value, delta);
      State after = write(s, next);
      if (after == null) {
        return next;
      }
      s = after;
    }
  }

  /** Sets the value to {@code update} if it is {@code expect}; returns whether it did. */
  public boolean compareAndSet(long expect, long update) {
    State s = read();
    while (s.value == expect) {
      State after = write(s, update);
      if (after == null) {
        return true;
      }
      s = after;
    }
    return false;
  }

  private record State(long value, long modRevision) {
  }

  private State read() {
    return client.await(client.jetcd().getKVClient().get(k).thenApply(r -> state(r.getKvs())));
  }

  /** Writes {@code next} if the key is still at {@code s}; null on success, else the key's current state. */
  private State write(State s, long next) {
    TxnResponse r = client.await(client.jetcd().getKVClient().txn()
        .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(s.modRevision)))
        .Then(Op.put(k, ByteSequence.from(Long.toString(next), StandardCharsets.UTF_8), PutOption.DEFAULT))
        .Else(Op.get(k, GetOption.DEFAULT))
        .commit());
    if (r.isSucceeded()) {
      return null;
    }
    return state(r.getGetResponses().get(0).getKvs());
  }

  private State state(List<KeyValue> kvs) {
    if (kvs.isEmpty()) {
      return new State(0, 0);
    }
    KeyValue kv = kvs.get(0);
    String text = kv.getValue().toString(StandardCharsets.UTF_8);
    try {
      return new State(Long.parseLong(text.trim()), kv.getModRevision());
    } catch (NumberFormatException e) {
      throw new DkvException("counter " + key + " holds a non-number: " + text, e);
    }
  }
}
