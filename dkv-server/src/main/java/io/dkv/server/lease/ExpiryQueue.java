package io.dkv.server.lease;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Lease deadlines in time order, so finding what expired costs only the expired entries, never a scan of
 * all leases. A renewal adds a new entry rather than moving the old one; the caller drops an entry that no
 * longer matches its lease's deadline. Thread-safe.
 */
final class ExpiryQueue {

  /** A lease id and the deadline it was queued with. */
  record Due(long id, long deadline) {}

  private final PriorityQueue<Due> heap = new PriorityQueue<>(Comparator.comparingLong(Due::deadline));
  private long examined;

  synchronized void add(long id, long deadline) {
    heap.add(new Due(id, deadline));
  }

  /** Removes and returns the entries with a deadline at or before {@code now}, earliest first. */
  synchronized List<Due> pollDue(long now) {
    List<Due> due = new ArrayList<>();
    while (!heap.isEmpty()) {
      examined++;
      if (heap.peek().deadline() > now) {
        break;
      }
      due.add(heap.poll());
    }
    return due;
  }

  synchronized int size() {
    return heap.size();
  }

  /** How many entries {@link #pollDue} has looked at, over the queue's life (for tests). */
  synchronized long examined() {
    return examined;
  }
}
