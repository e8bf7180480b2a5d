package io.dkv.controller;

import io.dkv.client.DkvException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waiting for jetcd's futures with a bound, failures as {@link DkvException}. */
final class Futures {
  private Futures() {}

  static <R> R await(CompletableFuture<R> f, Duration timeout, String what) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new DkvException(what + ": interrupted", e);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new DkvException(what + ": no answer within " + timeout, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new DkvException(what + " failed: " + cause.getMessage(), cause);
    }
  }
}
