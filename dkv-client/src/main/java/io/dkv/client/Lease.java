package io.dkv.client;

import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lease kept alive in the background until {@linkplain #revoke() revoked}. It is <em>lost</em> when the
 * server says it expired, or when no keep-alive succeeded within its TTL (the server may have let it expire):
 * then {@link #lost()} completes and the listeners run, once.
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

  private final DkvClient client;
  private final long id;
  private final Duration ttl;
  private final LossSignal lost = new LossSignal();
  private volatile long deadlineNanos;
  private volatile boolean ended;
  private CloseableClient keepAlive;
  private ScheduledFuture<?> check;

  Lease(DkvClient client, long id, Duration ttl) {
    this.client = client;
    this.id = id;
    this.ttl = ttl;
    this.deadlineNanos = System.nanoTime() + margin(ttl.toNanos());
  }

  synchronized void startKeepAlive() {
    keepAlive = client.jetcd().getLeaseClient().keepAlive(id, new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {
        if (r.getTTL() <= 0) {
          lose("the server reports it expired");
        } else {
          deadlineNanos = System.nanoTime() + margin(TimeUnit.SECONDS.toNanos(r.getTTL()));
        }
      }

      @Override
      public void onError(Throwable t) {
        lose("keep-alive failed: " + t.getMessage());
      }

      @Override
      public void onCompleted() {
        lose("keep-alive ended");
      }
    });
    long period = Math.max(50, ttl.toMillis() / 10);
    check = client.scheduler().scheduleWithFixedDelay(() -> {
      if (System.nanoTime() - deadlineNanos > 0) {
        lose("no keep-alive succeeded within its TTL");
      }
    }, period, period, TimeUnit.MILLISECONDS);
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
  void suspendKeepAlive() {
    CloseableClient k;
    synchronized (this) {
      k = keepAlive;
      keepAlive = null;
    }
    if (k != null) {
      k.close();
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
    if (keepAlive != null) {
      keepAlive.close();
      keepAlive = null;
    }
    client.leases().forget(this);
    return true;
  }

  private void lose(String why) {
    if (!stop()) {
      return;
    }
    log.warn("lease {} lost: {}", Long.toHexString(id), why);
    lost.fire();
  }
}
