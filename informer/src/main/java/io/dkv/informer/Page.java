package io.dkv.informer;

import java.util.List;

/**
 * One page of a consistent list. All pages of one list are read at the same {@link #revision()}.
 *
 * @param items        the objects of this page, in key order
 * @param revision     the revision the whole list is read at
 * @param continueFrom where the next page starts (pass it to {@link ListerWatcher#list}), or null on the last page
 * @param <T>          the object type
 */
public record Page<T>(List<Item<T>> items, long revision, String continueFrom) {
  public Page {
    items = List.copyOf(items);
  }

  /** Whether more pages follow. */
  public boolean hasMore() {
    return continueFrom != null;
  }
}
