package io.dkv.informer;

/**
 * An open watch, returned by {@link ListerWatcher#watch}.
 *
 * <pre>{@code
 * WatchHandle watch = source.watch(revision, sink);
 * watch.requestProgress(); // asks for a bookmark, if the source can send one on demand
 * watch.close();
 * }</pre>
 */
@FunctionalInterface
public interface WatchHandle extends AutoCloseable {

  /**
   * Stops the watch. Once it returns, no new call to the watch's sink starts (one already running on another
   * thread may still finish). Idempotent; never throws.
   */
  @Override
  void close();

  /**
   * Asks the source for a bookmark: a {@link Event.Type#BOOKMARK} event telling up to which revision everything
   * has been delivered. Used by informers to tell a silent but healthy watch from a dead one without reopening
   * it. Returns false when the source cannot do that on demand (the default).
   */
  default boolean requestProgress() {
    return false;
  }

  /**
   * A handle whose {@link #close()} runs {@code close} and whose {@link #requestProgress()} asks
   * {@code requestProgress}; for sources that wrap a watch of their own, like {@code ListWatch.Watch}:
   * {@code WatchHandle.of(watch::close, watch::requestProgress)}.
   */
  static WatchHandle of(Runnable close, java.util.function.BooleanSupplier requestProgress) {
    java.util.Objects.requireNonNull(close, "close");
    java.util.Objects.requireNonNull(requestProgress, "requestProgress");
    return new WatchHandle() {
      @Override
      public void close() {
        close.run();
      }

      @Override
      public boolean requestProgress() {
        return requestProgress.getAsBoolean();
      }
    };
  }
}
