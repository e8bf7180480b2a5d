package io.dkv.server.raft;

import io.dkv.server.mvcc.EtcdError;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/** The index of the last log entry applied on this member, and futures that wait for it to reach an index. */
final class AppliedIndex {

  private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> waiting = new ConcurrentSkipListMap<>();
  private volatile long index;
  private volatile boolean closed;

  AppliedIndex(long index) {
    this.index = index;
  }

  long get() {
    return index;
  }

  /** Completes once entry {@code i} is applied here (at once if it is); fails with STOPPED on close. */
  CompletableFuture<Void> await(long i) {
    if (index >= i) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> f = waiting.computeIfAbsent(i, k -> new CompletableFuture<>());
    if (index >= i) {
      complete(index); // advanced while this registered
    }
    if (closed) {
      f.completeExceptionally(EtcdError.STOPPED.exception());
    }
    return f;
  }

  /** Entry {@code i} and every one before it are applied (called in log order, by one thread). */
  void advance(long i) {
    if (i > index) {
      index = i;
    }
    if (!waiting.isEmpty()) {
      complete(i);
    }
  }

  private void complete(long upTo) {
    ConcurrentNavigableMap<Long, CompletableFuture<Void>> due = waiting.headMap(upTo, true);
    for (Map.Entry<Long, CompletableFuture<Void>> e : due.entrySet()) {
      if (waiting.remove(e.getKey(), e.getValue())) {
        e.getValue().complete(null);
      }
    }
  }

  void close() {
    closed = true;
    waiting.values().forEach(f -> f.completeExceptionally(EtcdError.STOPPED.exception()));
    waiting.clear();
  }
}
