package io.dkv.controller;

/**
 * Drives the actual state of one object towards its desired state. A reconcile is level-triggered: it reads
 * the current state (from the informer's cache, by {@link Request#key()}) and acts on it, never on the event
 * that caused it; it must be idempotent. The controller never runs two reconciles of the same request at once.
 *
 * <p>Outcomes: a {@link Result} ({@link Result#done()} or {@link Result#requeueAfter}); an exception, which
 * retries the request with the rate limiter's backoff; a {@link TerminalException}, which does not retry it.
 * An unexpected {@link RuntimeException} is treated as a failure: logged with its stack trace, counted, and
 * retried with backoff; the controller keeps running.
 *
 * <pre>{@code
 * Reconciler r = request -> {
 *   Optional<Job> job = jobs.lister().get(request.key());
 *   if (job.isEmpty()) {
 *     return Result.done();                     // deleted: nothing to do
 *   }
 *   if (!scheduler.isReady()) {
 *     return Result.requeueAfter(Duration.ofSeconds(5));
 *   }
 *   scheduler.ensure(job.get());                // throws to retry with backoff
 *   return Result.done();
 * };
 * }</pre>
 */
@FunctionalInterface
public interface Reconciler {

  /** Reconciles the object {@code request} names. */
  Result reconcile(Request request) throws Exception;
}
