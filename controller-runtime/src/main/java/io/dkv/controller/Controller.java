package io.dkv.controller;

/**
 * Runs a {@link Reconciler} for the requests that its watched informers' changes produce: a rate-limited
 * {@link WorkQueue} and a number of worker threads. A request is never reconciled by two workers at once.
 * Usually a {@link Manager} starts and stops controllers; a controller is started at most once.
 *
 * <pre>{@code
 * Controller c = Controller.builder("replicasets")
 *     .forKind(replicaSets, ReplicaSet.class)     // primary: enqueue the object itself
 *     .owns(pods)                                     // children: enqueue their controller owner
 *     .watches(nodes, node -> affected(node))         // anything else: a mapping to requests
 *     .withEventFilter(EventFilter.generationChanged())
 *     .workers(4)
 *     .build(reconciler);
 * }</pre>
 */
public interface Controller {

  /** A builder of a controller named {@code name} (the tag of its metrics and its queue's name). */
  static ControllerBuilder builder(String name) {
    return new ControllerBuilder(name);
  }

  /** The controller's name. */
  String name();

  /**
   * Registers the event handlers on the informers and starts the workers. The informers should have synced
   * first (the {@link Manager} sees to that). Calling it twice has no effect.
   *
   * @throws IllegalStateException if the controller was stopped
   */
  void start();

  /**
   * Stops at once: removes the event handlers, shuts the queue down (no new reconcile starts) and interrupts
   * the reconciles in progress without waiting for them. Used when leadership is lost, and to cut short a
   * graceful {@link #stop()} that takes too long.
   */
  void stopNow();

  /**
   * Stops gracefully: removes the event handlers, shuts the queue down and waits until the reconciles in
   * progress have finished.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  void stop() throws InterruptedException;

  /** Whether the controller was started and not stopped. */
  boolean isRunning();

  /** How many reconciles are running right now. */
  int activeWorkers();
}
