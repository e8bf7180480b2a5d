package io.dkv.controller;

import java.time.Duration;

/**
 * A {@link WorkQueue} that can add an item later. One timer thread per queue waits for the earliest due item;
 * there is no thread or timer task per item. An item waiting to be added twice is added once, at the earlier
 * of the two times.
 *
 * @param <T> the item type
 */
public interface DelayingQueue<T> extends WorkQueue<T> {

  /** Adds {@code item} once {@code delay} has passed (at once when it is zero or negative). */
  void addAfter(T item, Duration delay);
}
