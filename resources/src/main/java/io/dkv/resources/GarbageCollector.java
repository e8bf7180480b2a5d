package io.dkv.resources;

import io.dkv.controller.Controller;

/**
 * Deletes dependents whose owners are gone, as Kubernetes' garbage collector does with background cascading
 * deletion. It is a controller ({@link #controller()}) over an informer of every object under the
 * {@link DkvResources#prefix()} (all kinds): an object with {@code metadata.ownerReferences} none of whose owners
 * exists any more is deleted, or, when it has finalizers, marked for deletion. An owner exists when an object
 * with the reference's uid exists in the dependent's namespace or is cluster-scoped (so an owner deleted and
 * recreated under the same name is a different owner). Deleting a dependent may orphan its own dependents in
 * turn, so whole chains go. A dependent with at least one remaining owner is kept.
 *
 * <p>Decisions are made on the informer's cache, which holds every object (owners and dependents) of one
 * consistent source, and each deletion is guarded by the mod revision the decision was made at, so an object
 * changed meanwhile is decided again on its new state. Run one per store: either {@link #start()} it (it runs
 * under a manager of its own) or add {@link #controller()} to your own {@link io.dkv.controller.Manager}, for
 * instance one with leader election.
 *
 * <pre>{@code
 * try (GarbageCollector gc = resources.garbageCollector().start()) {
 *   ... // delete owners; their dependents follow
 * }
 * // or, under your manager (with its informer): manager.add(resources.garbageCollector().controller());
 * }</pre>
 */
public interface GarbageCollector extends AutoCloseable {

  /**
   * Runs the controller and its informer under a manager of its own; returns once the informer has synced.
   * Calling it twice has no effect. Returns this.
   *
   * @throws IllegalStateException if the informer could not sync (see {@link io.dkv.controller.Manager#start()})
   */
  GarbageCollector start();

  /** The controller, with its informer, for a {@link io.dkv.controller.Manager} of your own. */
  Controller controller();

  /** Whether the informer has applied its first list. */
  boolean hasSynced();

  /** How many dependents this collector deleted or marked for deletion so far. */
  long collected();

  /** Stops the manager started by {@link #start()}, if any (reconciles under way complete). */
  @Override
  void close();
}
