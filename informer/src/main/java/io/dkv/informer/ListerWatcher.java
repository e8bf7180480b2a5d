package io.dkv.informer;

/**
 * Where an informer's objects come from: a consistent, paginated list and a watch of the changes after
 * it. Implementations: {@link ListerWatchers#etcd} (DKV or etcd: an adapter of dkv-client's
 * {@link io.dkv.client.ListWatch}, its objects {@link io.dkv.client.Versioned} values) and
 * {@code ListerWatchers.kubernetes} (the Kubernetes API, via fabric8).
 *
 * <p>What an informer relies on: every page of one list shows the same revision; a watch from revision R
 * delivers every change after R exactly once, in revision order, all events of one revision before any of a
 * later one (in one {@link WatchSink#events} call where the source can); {@link HistoryGoneException} (from
 * {@link #list} or to {@link WatchSink#closed}) means "list again", any other failure means "resume from the
 * last revision". Revisions must grow with every change, so an unchanged revision means an unchanged object.
 *
 * <pre>{@code
 * Page<Job> page = source.list(0, null, 500);
 * // ... more pages with source.list(page.revision(), page.continueFrom(), 500)
 * WatchHandle watch = source.watch(page.revision(), sink);
 * }</pre>
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
   * @return a handle whose {@link WatchHandle#close()} stops the watch
   */
  WatchHandle watch(long revision, WatchSink<T> sink);

  /**
   * Like {@link #list}, but only keys and revisions: each item's object is its revision
   * ({@code item.object() == item.revision()}). Used by {@link SharedIndexInformer#audit()} to compare a cache
   * with the source cheaply. The default lists whole objects and drops them; sources that can read keys only
   * (etcd: a keys-only range read) should override it.
   *
   * @throws HistoryGoneException if {@code revision} is no longer readable
   */
  default Page<Long> listRevisions(long revision, String continueFrom, int limit) {
    Page<T> page = list(revision, continueFrom, limit);
    java.util.List<Item<Long>> items = new java.util.ArrayList<>(page.items().size());
    for (Item<T> item : page.items()) {
      items.add(new Item<>(item.key(), item.revision(), item.revision()));
    }
    return new Page<>(items, page.revision(), page.continueFrom());
  }

  /**
   * A short description of the source for logs and metrics tags, like {@code etcd:/jobs/}.
   */
  String description();
}
