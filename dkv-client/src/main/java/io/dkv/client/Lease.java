package io.dkv.client;

import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lease kept alive in the background until {@linkplain #revoke() revoked}. It is <em>lost</em> when the
 * server says it expired, or when no keep-alive succeeded within its TTL (the server may have let it expire):
 * then {@link #lost()} completes and the listeners run, once. A member that goes away or stops answering does
 * not lose it: each keep-alive (every third of the TTL) is a request of its own that gives up after
 * {@link #attemptTimeout} and is sent again at once, going to another member; so with several endpoints a lease
 * lives on as long as a majority of the cluster does.
 *
 * <pre>{@code
 * try (Lease lease = client.leases().grant(Duration.ofSeconds(10))) {
 *   lease.onLost(() -> log.warn("lease {} lost", lease.id()));
 *   client.jetcd().getKVClient().put(key, value, PutOption.builder().withLeaseId(lease.id()).build());
 * }
 * }</pre>
 */
public final class Lease implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Lease.class);
  /** The pause before sending a failed keep-alive again (to the next member). */
  private static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final DkvClient client;
  private final long id;
  private final Duration ttl;
  private final LossSignal lost = new LossSignal();
  private volatile long deadlineNanos;
  private volatile boolean ended;
  private boolean suspended; // guarded by this
  private ScheduledFuture<?> check;
  private ScheduledFuture<?> next; // guarded by this
  /** Failed attempts since the last keep-alive that succeeded; the first failure's time. */
  private int failures; // guarded by this
  private long failingSinceNanos; // guarded by this

  Lease(DkvClient client, long id, Duration ttl) {
    this.client = client;
    this.id = id;
    this.ttl = ttl;
    this.deadlineNanos = System.nanoTime() + margin(ttl.toNanos());
  }

  synchronized void startKeepAlive() {
    scheduleKeepAlive(ttl.toNanos() / 3);
    long period = Math.max(50, ttl.toMillis() / 10);
    check = client.scheduler().scheduleWithFixedDelay(() -> {
      if (System.nanoTime() - deadlineNanos > 0) {
        lose("no keep-alive succeeded within its TTL of " + ttl.toSeconds() + " s (tried " + failures
            + " times, at any of " + client.endpoints().addresses() + ")");
      }
    }, period, period, TimeUnit.MILLISECONDS);
  }

  /**
   * How long one keep-alive waits for its answer before it is sent again: a quarter of the TTL, between 250 ms and
   * 2 s. A paused member's connection stays open, so without it a keep-alive would wait for gRPC's keep-alive to
   * give up on the connection (10 s and more).
   */
  Duration attemptTimeout() {
    return Duration.ofMillis(Math.max(250, Math.min(2000, ttl.toMillis() / 4)));
  }

  private synchronized void scheduleKeepAlive(long delayNanos) {
    if (ended || suspended) {
      return;
    }
    try {
      next = client.scheduler().schedule(this::keepAlive, delayNanos, TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // the client is closing
    }
  }

  private void keepAlive() {
    if (ended) {
      return;
    }
    long sent = System.nanoTime();
    CompletableFuture<LeaseKeepAliveResponse> f;
    try {
      f = client.jetcd().getLeaseClient().keepAliveOnce(id);
    } catch (RuntimeException e) {
      answered(sent, null, e);
      return;
    }
    f.orTimeout(attemptTimeout().toMillis(), TimeUnit.MILLISECONDS).whenComplete((r, e) -> answered(sent, r, e));
  }

  private void answered(long sent, LeaseKeepAliveResponse r, Throwable e) {
    if (ended) {
      return;
    }
    if (e == null && r.getTTL() > 0) {
      deadlineNanos = sent + margin(TimeUnit.SECONDS.toNanos(r.getTTL()));
      synchronized (this) {
        if (failures > 0) {
          log.info("lease {} kept alive again, by member {}, after {} failed attempt{} in {} ms", hex(),
              Long.toHexString(r.getHeader().getMemberId()), failures, failures == 1 ? "" : "s",
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failingSinceNanos));
          failures = 0;
        }
      }
      scheduleKeepAlive(ttl.toNanos() / 3);
      return;
    }
    if (e == null || expired(e)) {
      lose("the server reports it expired");
      return;
    }
    synchronized (this) {
      if (failures++ == 0) {
        failingSinceNanos = sent;
      }
    }
    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    String why = cause instanceof java.util.concurrent.TimeoutException
        ? "no answer within " + attemptTimeout().toMillis() + " ms" : DkvException.describe(cause);
    log.debug("lease {}: keep-alive failed ({}); sending it again, to another member if there is one", hex(), why);
    scheduleKeepAlive(RETRY_NANOS);
  }

  /** Whether {@code e} says the lease does not exist (any more). */
  private static boolean expired(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof io.etcd.jetcd.common.exception.EtcdException ee
          && ee.getErrorCode() == io.etcd.jetcd.common.exception.ErrorCode.NOT_FOUND) {
        return true;
      }
      if (String.valueOf(c.getMessage()).contains("requested lease not found")) {
        return true;
      }
    }
    return false;
  }

  private String hex() {
    return Long.toHexString(id);
  }

  /**
   * The part of a TTL the client trusts: the server counts the TTL from when it received the keep-alive, the
   * client from when the answer arrived, so the client gives up a tenth earlier to err on the safe side.
   */
  private static long margin(long ttlNanos) {
    return ttlNanos - ttlNanos / 10;
  }

  /** The lease id, for jetcd options such as {@code PutOption.withLeaseId}. */
  public long id() {
    return id;
  }

  /** The TTL the server granted. */
  public Duration ttl() {
    return ttl;
  }

  /** Whether the lease is neither lost nor revoked. */
  public boolean isAlive() {
    return !ended;
  }

  /** Completes when the lease is lost (never when it is revoked). */
  public CompletableFuture<Void> lost() {
    return lost.future();
  }

  /** Runs {@code listener} when the lease is lost (at once if it already is). */
  public void onLost(Runnable listener) {
    lost.onLost(listener);
  }

  /** Stops the keep-alive and revokes the lease: every key attached to it is deleted. */
  public void revoke() {
    if (stop()) {
      client.await(client.jetcd().getLeaseClient().revoke(id));
    }
  }

  /** Same as {@link #revoke()}, but never throws (a failed revoke lets the lease expire). */
  @Override
  public void close() {
    try {
      if (stop()) {
        DkvClient.await(client.jetcd().getLeaseClient().revoke(id), Duration.ofSeconds(2));
      }
    } catch (RuntimeException e) {
      log.debug("revoking lease {} failed; it will expire", id, e);
    }
  }

  /** Stops keeping the lease alive without revoking it, as if the owner paused; for tests. */
  synchronized void suspendKeepAlive() {
    suspended = true;
    if (next != null) {
      next.cancel(false);
    }
  }

  private synchronized boolean stop() {
    if (ended) {
      return false;
    }
    ended = true;
    if (check != null) {
      check.cancel(false);
    }
    if (next != null) {
      next.cancel(false);
    }
    client.leases().forget(this);
    return true;
  }

  private void lose(String why) {
    if (!stop()) {
      return;
    }
    log.warn("lease {} lost: {}", hex(), why);
    lost.fire();
  }
}
