package io.dkv.client;

import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Group membership: each member registers {@code prefix + memberId} under a lease it keeps alive; when it
 * leaves or dies the key goes. Anyone can list or watch the members.
 *
 * <pre>{@code
 * Presence workers = client.presence("presence/workers/");
 * try (Registration me = workers.register("worker-7", "10.0.0.7:8080", Duration.ofSeconds(10))) {
 *   workers.watch(members -> rebalance(members.keySet()));
 * }
 * }</pre>
 */
public final class Presence {

  private final DkvClient client;
  private final String prefix;

  Presence(DkvClient client, String prefix) {
    this.client = client;
    this.prefix = prefix;
  }

  /** Registers {@code memberId} with {@code value}; the registration lasts until closed or its lease is lost. */
  public Registration register(String memberId, String value, Duration ttl) {
    if (memberId.isEmpty() || memberId.contains("/")) {
      throw new IllegalArgumentException("a member id is non-empty and has no '/': " + memberId);
    }
    Lease lease = client.leases().grant(ttl);
    try {
      client.await(client.jetcd().getKVClient().put(Keys.bytes(prefix + memberId), Keys.bytes(Codec.string()
          .encode(value)), PutOption.builder().withLeaseId(lease.id()).build()));
    } catch (RuntimeException e) {
      lease.close();
      throw e;
    }
    return new Registration(memberId, lease);
  }

  /** The members now: member id to value. */
  public Map<String, String> members() {
    Map<String, String> out = new TreeMap<>();
    for (Versioned<String> v : client.list(prefix, Codec.string())) {
      out.put(v.key().substring(prefix.length()), v.value());
    }
    return out;
  }

  /** Calls {@code listener} with the members (id to value) now and after every change. */
  public Subscription watch(Consumer<Map<String, String>> listener) {
    return Members.watch(client, prefix, keys -> {
      Map<String, String> out = new TreeMap<>();
      keys.forEach((k, v) -> out.put(k.substring(prefix.length()), v.value()));
      listener.accept(java.util.Collections.unmodifiableMap(out));
    });
  }

  /**
   * A member's registration; closing it removes the member at once.
   *
   * <pre>{@code
   * Registration r = presence.register("node-1", "up", Duration.ofSeconds(10));
   * r.lease().onLost(() -> reRegister());
   * r.close();
   * }</pre>
   */
  public static final class Registration implements AutoCloseable {
    private final String memberId;
    private final Lease lease;

    Registration(String memberId, Lease lease) {
      this.memberId = memberId;
      this.lease = lease;
    }

    public String memberId() {
      return memberId;
    }

    /** The lease that keeps the registration alive. */
    public Lease lease() {
      return lease;
    }

    /** Leaves: revokes the lease, which deletes the member key. */
    @Override
    public void close() {
      lease.close();
    }
  }
}
