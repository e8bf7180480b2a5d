package io.dkv.server.raft;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Ratis {@link RaftClient} that is replaced by a new one, built the same way, once it reports that it is closed.
 *
 * <p>Ratis's ordered client keeps one sliding window of requests per target; when a request in it runs out of
 * retries (a member paused longer than its retry policy lasts, while the leadership moved), Ratis fails the
 * window, and from then on every request sent through that client fails at once with {@link
 * AlreadyClosedException} ({@code SlidingWindow$Client ... is closed}; Ratis 3.3 fails the request that ran out
 * of retries with it too): the client never recovers. Here such a client is swapped for a new one (the old one
 * closed), and the request is sent once more on the new one if it was not sent at all: a request made on a client
 * already seen closed, whose future has failed with {@link AlreadyClosedException} by the time the call returns,
 * was refused by the closed window and never left this member. A request that may have been sent (it failed
 * later, or it is the one that closed the window) is sent again only if the caller says it is idempotent (a
 * read): a write sent twice through two clients would be applied twice (Ratis's retry cache is per client).
 */
final class ReplaceableClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ReplaceableClient.class);

  private final String name;
  private final Supplier<RaftClient> factory;
  /** Where a failure that came late (on one of Ratis's threads) is retried, and an old client closed. */
  private final Executor executor;
  private final AtomicLong replacements = new AtomicLong();
  private RaftClient current;
  /** The last client seen closed (set on the thread that saw it, before it is replaced). */
  private volatile RaftClient broken;
  private boolean closed;

  ReplaceableClient(String name, Supplier<RaftClient> factory, Executor executor) {
    this.name = name;
    this.factory = factory;
    this.executor = executor;
    this.current = factory.get();
  }

  /** The client in use now. */
  synchronized RaftClient get() {
    return current;
  }

  /** How many times the client was replaced. */
  long replacements() {
    return replacements.get();
  }

  /**
   * Runs {@code call} on the current client; if it reports the client closed, replaces the client and runs
   * {@code call} once more on the new one when the request was not sent, or when it is {@code idempotent}.
   */
  <T> CompletableFuture<T> send(Function<RaftClient, CompletableFuture<T>> call, boolean idempotent) {
    RaftClient used = get();
    boolean seenClosed = used == broken;
    CompletableFuture<T> first = invoke(call, used);
    if (first.isCompletedExceptionally() && isClosed(failureOf(first))) {
      broken = used;
      // failed before it returned, on a client already seen closed: refused by the closed window, never sent
      // (otherwise it may be the request that ran out of retries, and closed the window, before the call returned)
      RaftClient fresh = replace(used);
      return fresh == null || !(seenClosed || idempotent) ? first : invoke(call, fresh);
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    first.whenComplete((r, e) -> {
      if (e == null) {
        result.complete(r);
      } else if (!isClosed(e)) {
        result.completeExceptionally(e);
      } else {
        broken = used; // at once: a request made from now on knows that the window refused it
        try {
          executor.execute(() -> {
            RaftClient fresh = replace(used);
            if (fresh == null || !idempotent) {
              result.completeExceptionally(e); // may have been sent: not sent twice
            } else {
              invoke(call, fresh).whenComplete((r2, e2) -> {
                if (e2 == null) {
                  result.complete(r2);
                } else {
                  result.completeExceptionally(e2);
                }
              });
            }
          });
        } catch (RuntimeException stopped) { // the executor stopped: this member is closing
          result.completeExceptionally(e);
        }
      }
    });
    return result;
  }

  /**
   * Replaces {@code broken} with a new client, unless it was replaced already (then the one that replaced it);
   * null once this is closed.
   */
  RaftClient replace(RaftClient broken) {
    RaftClient fresh;
    synchronized (this) {
      if (closed) {
        return null;
      }
      if (current != broken) {
        return current;
      }
      fresh = factory.get();
      current = fresh;
    }
    long n = replacements.incrementAndGet();
    log.warn("the Raft client {} ({}) reported it is closed; replaced by {} (replacement {})", name,
        broken.getId(), fresh.getId(), n);
    closeQuietly(broken);
    return fresh;
  }

  private static <T> CompletableFuture<T> invoke(Function<RaftClient, CompletableFuture<T>> call, RaftClient c) {
    try {
      return call.apply(c);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static Throwable failureOf(CompletableFuture<?> done) {
    try {
      done.getNow(null);
      return null;
    } catch (CompletionException | java.util.concurrent.CancellationException e) {
      return e;
    }
  }

  /** Whether {@code e} or one of its causes is Ratis's {@link AlreadyClosedException}. */
  static boolean isClosed(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof AlreadyClosedException) {
        return true;
      }
    }
    return false;
  }

  private void closeQuietly(RaftClient c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      log.debug("closing the replaced Raft client {}", name, e);
    }
  }

  @Override
  public void close() {
    RaftClient c;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      c = current;
    }
    closeQuietly(c);
  }
}
