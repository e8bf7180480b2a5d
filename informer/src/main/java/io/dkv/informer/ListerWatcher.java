package io.dkv.informer;

/**
 * Where an informer's objects come from: a consistent, paginated list and a watch of the changes after
 * it. Implementations: {@link ListerWatchers#etcd} (DKV or etcd, via dkv-client) and
 * {@link ListerWatchers#kubernetes} (the Kubernetes API, via fabric8).
 *
 * @param <T> the object type
 */
public interface ListerWatcher<T> {

  /**
   * Lists one page.
   *
   * @param revision     0 for the first page (read at the latest revision); for the next pages the
   *                     {@link Page#revision()} of the first, so all pages show the same state
   * @param continueFrom null for the first page, then the previous page's {@link Page#continueFrom()}
   * @param limit        the most items in one page (a positive number)
   * @throws HistoryGoneException if {@code revision} is no longer readable (the list must start again)
   */
  Page<T> list(long revision, String continueFrom, int limit);

  /**
   * Watches every change after {@code revision}, that is from {@code revision + 1} on, and bookmarks
   * when the source offers them. Returns at once; events go to {@code sink} until the watch is closed.
   *
   * @return a handle whose {@link AutoCloseable#close()} stops the watch (no call to the sink follows it)
   */
  AutoCloseable watch(long revision, WatchSink<T> sink);

  /**
   * A short description of the source for logs and metrics tags, like {@code etcd:/jobs/}.
   */
  String description();
}
