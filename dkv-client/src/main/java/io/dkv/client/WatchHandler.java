package io.dkv.client;

import java.util.List;

/**
 * Receives what a watch sees, one call at a time and in revision order.
 *
 * <pre>{@code
 * WatchHandler<String> h = new WatchHandler<>() {
 *   public void onSnapshot(List<Versioned<String>> values, long revision) { cache.reset(values); }
 *   public void onEvent(WatchEvent<String> e) { cache.apply(e); }
 * };
 * }</pre>
 *
 * @param <T> the value type
 */
@FunctionalInterface
public interface WatchHandler<T> {

  /** A change. Events arrive once each, in revision order, with no gap (unless {@link #onCompacted}). */
  void onEvent(WatchEvent<T> event);

  /**
   * With {@link WatchOptions#initialSnapshot()}: the values at {@code revision}, before any event (every
   * event delivered afterwards has a greater revision).
   */
  default void onSnapshot(List<Versioned<T>> values, long revision) {
  }

  /**
   * The history the watch needed was compacted up to {@code compactRevision}: changes may have been missed.
   * With {@link WatchOptions#resnapshotOnCompaction()}, {@code difference} holds what changed between the last
   * state this watch delivered and a fresh snapshot (PUT for new or changed keys, DELETE for gone ones), at the
   * snapshot's revision; the watch goes on from there. Without it, {@code difference} is empty and the watch
   * goes on from {@code compactRevision}.
   */
  default void onCompacted(long compactRevision, List<WatchEvent<T>> difference) {
  }
}
