package io.dkv.controller;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link Reconciler} asks for after a successful reconcile.
 *
 * @param requeueAfter when to reconcile the same request again regardless of changes; null for never
 *                     (until the next change)
 */
public record Result(Duration requeueAfter) {

  private static final Result DONE = new Result(null);

  public Result {
    if (requeueAfter != null && requeueAfter.isNegative()) {
      throw new IllegalArgumentException("requeueAfter must not be negative, got " + requeueAfter);
    }
  }

  /** Reconciled; nothing to do until the object (or something mapped to it) changes. */
  public static Result done() {
    return DONE;
  }

  /** Reconciled for now; reconcile again after {@code delay} (a poll, such as waiting on an external system). */
  public static Result requeueAfter(Duration delay) {
    return new Result(Objects.requireNonNull(delay, "delay"));
  }

  /** Whether a requeue is asked for. */
  public boolean isRequeue() {
    return requeueAfter != null;
  }
}
