package io.dkv.informer;

/**
 * Decides what an informer does after a failed list or watch. The default retries every error, with
 * backoff and jitter.
 */
@FunctionalInterface
public interface ErrorHandler {

  /**
   * Returns true to retry (after a backoff with jitter) or false to stop the informer; its
   * {@link SharedIndexInformer#stopped()} future then completes exceptionally with {@code error}.
   */
  boolean shouldRetry(Throwable error);
}
