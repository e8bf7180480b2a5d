package io.dkv.informer;

/**
 * Receives the events of one watch opened by {@link ListerWatcher#watch}. Calls come from one thread at a
 * time, in revision order.
 *
 * @param <T> the object type
 */
public interface WatchSink<T> {

  /** The next event. All events of one revision are delivered before any of a later one. */
  void event(Event<T> event);

  /**
   * The watch ended; no call follows. {@code cause} is a {@link HistoryGoneException} when the history
   * is gone (list again), another exception for a transient failure (resume from the last revision), or
   * null when the server closed the watch without an error (resume as well).
   */
  void closed(Throwable cause);
}
