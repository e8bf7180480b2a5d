/**
 * Informers: local caches kept in sync with a source by list-then-watch, handing every change to handlers.
 *
 * <p>Start from {@link io.dkv.informer.SharedIndexInformer#builder} with a source from
 * {@link io.dkv.informer.ListerWatchers}.
 */
package io.dkv.informer;
