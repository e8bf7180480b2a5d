package io.dkv.benchmarks;

import io.dkv.informer.ListerWatcher;
import io.dkv.informer.Page;
import io.dkv.informer.WatchHandle;
import io.dkv.informer.WatchSink;
import java.util.concurrent.atomic.AtomicLong;

/** A source that counts the lists started through it (first pages), to count an informer's relists. */
final class CountingListerWatcher<T> implements ListerWatcher<T> {
  private final ListerWatcher<T> delegate;
  private final AtomicLong lists = new AtomicLong();

  CountingListerWatcher(ListerWatcher<T> delegate) {
    this.delegate = delegate;
  }

  long lists() {
    return lists.get();
  }

  @Override
  public Page<T> list(long revision, String continueFrom, int limit) {
    if (continueFrom == null) {
      lists.incrementAndGet();
    }
    return delegate.list(revision, continueFrom, limit);
  }

  @Override
  public WatchHandle watch(long revision, WatchSink<T> sink) {
    return delegate.watch(revision, sink);
  }

  @Override
  public String description() {
    return delegate.description();
  }
}
