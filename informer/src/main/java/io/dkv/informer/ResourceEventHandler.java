package io.dkv.informer;

/**
 * Receives an informer's changes. Each registered handler is called from its own listener thread, one
 * call at a time, so a slow handler delays nobody else. When a handler falls behind, pending
 * notifications for the same key are coalesced: the states it sees for each key are an ordered
 * subsequence of the states that key went through (never one out of order, always the latest in the end).
 *
 * <pre>{@code
 * informer.addEventHandler(new ResourceEventHandler<Job>() {
 *   public void onAdd(Job job, boolean initial) { queue.add(job.id()); }
 *   public void onUpdate(Job before, Job after) { queue.add(after.id()); }
 *   public void onDelete(Job job, boolean finalStateUnknown) { cancel(job.id()); }
 * });
 * }</pre>
 *
 * @param <T> the object type
 */
public interface ResourceEventHandler<T> {

  /**
   * An object appeared.
   *
   * @param initial true for objects already in the cache when the handler was added or that the
   *                first list returned (the handler's initial state), false for later additions
   */
  default void onAdd(T object, boolean initial) {}

  /**
   * An object changed (or, on resync, was re-delivered unchanged: then {@code before == after}).
   */
  default void onUpdate(T before, T after) {}

  /**
   * An object disappeared.
   *
   * @param finalStateUnknown true when the deletion was found by a relist rather than seen as an event,
   *                          so {@code object} is the last state the cache had, not the state at deletion
   */
  default void onDelete(T object, boolean finalStateUnknown) {}
}
