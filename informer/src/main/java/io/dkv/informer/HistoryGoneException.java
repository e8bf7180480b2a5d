package io.dkv.informer;

/**
 * The history a watch asked for is no longer kept (etcd: the revision is compacted; Kubernetes: 410 Gone).
 * A {@link Reflector}-style consumer must list again; any other error passed to
 * {@link WatchSink#closed(Throwable)} is transient and the watch may be resumed from the last revision.
 */
public class HistoryGoneException extends RuntimeException {
  private final long oldestAvailable;

  /**
   * @param message         what was asked for and why it is gone
   * @param oldestAvailable the oldest revision the server still has, or 0 when unknown
   */
  public HistoryGoneException(String message, long oldestAvailable) {
    super(message);
    this.oldestAvailable = oldestAvailable;
  }

  /** The oldest revision the server still has (etcd's compact revision), or 0 when unknown. */
  public long oldestAvailable() {
    return oldestAvailable;
  }
}
