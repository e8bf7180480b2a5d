package io.dkv.examples;

import io.dkv.client.DkvException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits for a jetcd call, for the examples that use jetcd directly ({@code client.jetcd()}). */
public final class Await {

  private Await() {
  }

  /** The result of {@code f}, waiting at most 30 s; a failure becomes a {@link DkvException}. */
  public static <T> T of(CompletableFuture<T> f) {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DkvException("interrupted", e);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new DkvException("no answer within 30 s", e);
    } catch (ExecutionException e) {
      throw new DkvException(String.valueOf(e.getCause().getMessage()), e.getCause());
    }
  }
}
