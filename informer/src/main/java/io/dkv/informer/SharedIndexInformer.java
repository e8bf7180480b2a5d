package io.dkv.informer;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A local cache of a source's objects kept in sync by list-then-watch, shared by any number of handlers.
 *
 * <pre>{@code
 * SharedIndexInformer<Versioned<Job>> jobs = SharedIndexInformer
 *     .builder(ListerWatchers.etcd(client, "/jobs/", Codec.json(Job.class)))
 *     .index("byOwner", v -> List.of(v.value().owner()))
 *     .build();
 * jobs.addEventHandler(handler);
 * jobs.start();
 * jobs.lister().byIndex("byOwner", "alice");
 * }</pre>
 *
 * @param <T> the object type
 */
public interface SharedIndexInformer<T> extends AutoCloseable {

  /** A builder over {@code source}. */
  static <T> InformerBuilder<T> builder(ListerWatcher<T> source) {
    return new InformerBuilder<>(source);
  }

  /**
   * Adds a handler, at any time. If the informer has objects already, the handler first gets each of
   * them as {@code onAdd(object, true)}.
   */
  HandlerRegistration addEventHandler(ResourceEventHandler<T> handler);

  /**
   * Adds a handler that also gets every cached object again as {@code onUpdate(o, o)} every
   * {@code resyncPeriod} (zero: never), except objects for which a notification is already waiting.
   */
  HandlerRegistration addEventHandler(ResourceEventHandler<T> handler, Duration resyncPeriod);

  /** Removes a handler; notifications still queued for it are dropped. */
  void removeEventHandler(HandlerRegistration registration);

  /** The cache. */
  Lister<T> lister();

  /** Starts listing and watching in the background. Calling it twice has no effect. */
  SharedIndexInformer<T> start();

  /**
   * Whether the first list has been applied to the cache. Per handler, {@link HandlerRegistration#hasSynced()}
   * also waits until that handler has been handed every initial object.
   */
  boolean hasSynced();

  /** Whether a watch is open right now (false while listing, backing off, or stopped). */
  boolean isWatching();

  /**
   * Why the informer's source failed the last time, as long as it has not answered since: the error of the last
   * failed list or watch (for an etcd source, like {@code cannot reach 127.0.0.1:2379: connection refused}), or
   * the error it stopped on. Empty while the source answers, and before the first failure. For messages such as
   * "not synced because ..."; the default (for implementations that do not track it) is empty.
   *
   * <p>The built informer also logs an outage once: a WARN line when its source fails (naming the source and this
   * error), an INFO line when it answers again (with the revision the watch resumed from); the retries between
   * them are logged at DEBUG.
   */
  default Optional<Throwable> lastError() {
    return Optional.empty();
  }

  /**
   * Completes when the informer stops: normally after {@link #close()}, exceptionally with the cause when
   * the {@link ErrorHandler} decides to stop.
   */
  CompletableFuture<Void> stopped();

  /**
   * Compares the cache with the source at one revision, repairs any drift and reports it. The comparison
   * reads only keys and revisions, at the cache's own revision, while the watch goes on; only when it finds a
   * difference does the informer list again (pausing the watch for that list) and reconcile, handing the
   * differences to the handlers like a relist does. Blocking; safe to call from any thread.
   *
   * @throws IllegalStateException if the informer has not synced yet
   * @throws HistoryGoneException  if the cache's revision is already compacted on the source (the cache is far
   *                               behind; the informer relists by itself when its watch learns the same)
   */
  AuditReport audit();

  /** Stops watching and every handler's listener. */
  @Override
  void close();
}
