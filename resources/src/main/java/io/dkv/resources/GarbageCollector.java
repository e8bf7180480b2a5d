package io.dkv.resources;

/**
 * Deletes dependents whose owners are gone, as Kubernetes' garbage collector does with background cascading
 * deletion. It watches every object under the {@link DkvResources#prefix()} (all kinds); an object with
 * {@code metadata.ownerReferences} none of whose owners exists any more is deleted, or, when it has finalizers,
 * marked for deletion. An owner exists when an object with the reference's uid exists in the dependent's
 * namespace or is cluster-scoped (so an owner deleted and recreated under the same name is a different owner).
 * Deleting a dependent may orphan its own dependents in turn, so whole chains go. A dependent with at least
 * one remaining owner is kept.
 *
 * <p>Every decision is made on a consistent view of the store (one watch over the whole prefix, applied in
 * revision order) and each deletion is guarded by the mod revision the decision was made at, so an object
 * changed meanwhile is decided again on its new state. Run one per store (or one per leader).
 *
 * <pre>{@code
 * try (GarbageCollector gc = resources.garbageCollector().start()) {
 *   ... // delete owners; their dependents follow
 * }
 * }</pre>
 */
public interface GarbageCollector extends AutoCloseable {

  /** Starts listing and watching in the background; calling it twice has no effect. Returns this. */
  GarbageCollector start();

  /** Whether the first list has been applied and every object in it decided once. */
  boolean hasSynced();

  /** How many dependents this collector deleted or marked for deletion so far. */
  long collected();

  /** Stops watching; a deletion under way completes. */
  @Override
  void close();
}
