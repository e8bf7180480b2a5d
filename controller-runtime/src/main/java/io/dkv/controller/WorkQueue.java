package io.dkv.controller;

/**
 * A queue of work items with client-go's guarantees: an item is handed to at most one worker at a time, an
 * item added several times before a worker takes it is handed out once, and an item added while a worker
 * holds it is queued again when that worker calls {@link #done} (so no change is lost).
 *
 * <p>Items must have value semantics ({@code equals} and {@code hashCode}); {@link Request} does.
 *
 * <pre>{@code
 * RateLimitingQueue<Request> queue = WorkQueue.<Request>builder().name("jobs").build();
 * queue.add(Request.ofKey("/jobs/a"));
 * Request r;
 * while ((r = queue.get()) != null) {   // null once shut down
 *   try {
 *     handle(r);
 *     queue.forget(r);
 *   } catch (Exception e) {
 *     queue.addRateLimited(r);
 *   } finally {
 *     queue.done(r);
 *   }
 * }
 * }</pre>
 *
 * @param <T> the item type
 */
public interface WorkQueue<T> {

  /** A builder of a queue (FIFO, delaying and rate-limiting in one). */
  static <T> WorkQueueBuilder<T> builder() {
    return new WorkQueueBuilder<>();
  }

  /**
   * Queues {@code item} unless it is queued already; if a worker holds it, it is queued again when the worker
   * calls {@link #done}. Ignored once the queue is shutting down.
   */
  void add(T item);

  /**
   * Waits for the next item and hands it to the caller, who must call {@link #done} with it afterwards.
   *
   * @return the item, or null once the queue is shut down (items still queued then are discarded, unlike
   *     client-go which hands them out first: a stopping controller does not work through its backlog)
   * @throws InterruptedException if the waiting thread is interrupted
   */
  T get() throws InterruptedException;

  /** Marks {@code item}, handed out by {@link #get}, as handled; re-queues it if it was added meanwhile. */
  void done(T item);

  /** How many items are queued (not counting those held by workers). */
  int len();

  /** Stops handing out items: {@link #get} returns null at once; later adds are ignored. */
  void shutDown();

  /**
   * Like {@link #shutDown()}, then waits until every item handed out has been marked {@link #done}.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  void shutDownWithDrain() throws InterruptedException;

  /** Whether {@link #shutDown()} or {@link #shutDownWithDrain()} has been called. */
  boolean isShuttingDown();
}
