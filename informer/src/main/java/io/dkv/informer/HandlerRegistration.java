package io.dkv.informer;

/**
 * A handler added to a {@link SharedIndexInformer}.
 */
public interface HandlerRegistration {

  /** Whether this handler has been handed the whole initial state (all its initial onAdd calls returned). */
  boolean hasSynced();

  /** How many notifications wait for this handler (after coalescing per key). */
  int backlog();
}
