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
   * Several events at once, in order; sources call it with all the events of one revision (a transaction) so
   * that they are applied together. The default hands them to {@link #event} one by one.
   */
  default void events(java.util.List<Event<T>> events) {
    for (Event<T> e : events) {
      event(e);
    }
  }

  /**
   * A hint of the source's latest revision (etcd: the header of a watch response), which may be ahead of the
   * events delivered so far; informers use it to measure their lag. Optional for sources; the default ignores it.
   */
  default void serverRevision(long revision) {}

  /**
   * The watch ended; no call follows. {@code cause} is a {@link HistoryGoneException} when the history
   * is gone (list again), another exception for a transient failure (resume from the last revision), or
   * null when the server closed the watch without an error (resume as well).
   */
  void closed(Throwable cause);
}
