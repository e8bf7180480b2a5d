package io.dkv.client;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Grants leases that are kept alive in the background.
 *
 * <pre>{@code
 * Lease lease = client.leases().grant(Duration.ofSeconds(5));
 * lease.onLost(() -> stopWork());
 * ...
 * lease.revoke();
 * }</pre>
 */
public final class Leases {

  private final DkvClient client;
  private final Set<Lease> active = ConcurrentHashMap.newKeySet();

  Leases(DkvClient client) {
    this.client = client;
  }

  /** Grants a lease of at least {@code ttl} (whole seconds, at least 1) and keeps it alive. */
  public Lease grant(Duration ttl) {
    return client.await(grantAsync(ttl));
  }

  /** Asynchronously grants a lease and keeps it alive. */
  public CompletableFuture<Lease> grantAsync(Duration ttl) {
    long seconds = Math.max(1, (ttl.toMillis() + 999) / 1000);
    return client.jetcd().getLeaseClient().grant(seconds).thenApply(r -> {
      Lease lease = new Lease(client, r.getID(), Duration.ofSeconds(r.getTTL()));
      active.add(lease);
      lease.startKeepAlive();
      return lease;
    });
  }

  void forget(Lease lease) {
    active.remove(lease);
  }

  /** Revokes every lease still alive (best effort), when the client closes. */
  void close() {
    for (Lease l : Set.copyOf(active)) {
      l.close();
    }
  }
}
