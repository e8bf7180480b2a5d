package io.dkv.client;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * A leader election, with etcd's recipe (compatible with etcd's election clients): each candidate puts
 * {@code name/<lease id>} (its value) under a lease; the candidate whose key has the smallest create revision
 * is the leader; the others wait in line.
 *
 * <pre>{@code
 * Election e = client.election("elections/scheduler", Duration.ofSeconds(10));
 * try (Leadership l = e.campaign("node-1")) {
 *   l.onLost(() -> stopLeading());   // lease lost or key deleted: signalled at once
 *   lead(l);
 * }                                  // resigns
 * e.observe(leader -> log.info("leader now {}", leader.map(Versioned::value)));
 * }</pre>
 */
public final class Election {

  private final DkvClient client;
  private final String name;
  private final DistributedLock line;

  Election(DkvClient client, String name, Duration ttl) {
    this.client = client;
    this.name = name;
    this.line = new DistributedLock(client, name, ttl);
  }

  /** The election's name: the prefix its candidates' keys live under (followed by a slash). */
  public String name() {
    return name;
  }

  /** Waits (interruptibly) until this candidate, proposing {@code value}, leads. */
  public Leadership campaign(String value) throws InterruptedException {
    CompletableFuture<Leadership> f = campaignAsync(value);
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw DkvClient.unwrap(e.getCause());
    } catch (InterruptedException e) {
      f.cancel(false);
      throw e;
    }
  }

  /** Completes once this candidate leads; cancelling it withdraws the candidacy. */
  public CompletableFuture<Leadership> campaignAsync(String value) {
    Objects.requireNonNull(value, "value");
    CompletableFuture<LockHandle> held = line.acquireAsync(value.getBytes(StandardCharsets.UTF_8));
    CompletableFuture<Leadership> result = held.thenApply(h -> Leadership.start(client, h));
    result.whenComplete((l, e) -> {
      if (result.isCancelled()) {
        held.cancel(false);
      }
    });
    return result;
  }

  /** The current leader's key and value, if there is one. */
  public Optional<Versioned<String>> leader() {
    return leaderOf(client.list(name + "/", Codec.string()).stream()
        .collect(java.util.stream.Collectors.toMap(Versioned::key, v -> v)));
  }

  /**
   * Calls {@code listener} with the leader now and then whenever the leader (or its value) changes, until the
   * returned subscription is closed.
   */
  public Subscription observe(Consumer<Optional<Versioned<String>>> listener) {
    Object[] last = {null};
    return Members.watch(client, name + "/", members -> {
      Optional<Versioned<String>> leader = leaderOf(members);
      Object id = leader.map(v -> v.key() + "@" + v.modRevision()).orElse("");
      if (!id.equals(last[0])) {
        last[0] = id;
        listener.accept(leader);
      }
    });
  }

  private static Optional<Versioned<String>> leaderOf(Map<String, Versioned<String>> members) {
    return members.values().stream().min(Comparator.comparingLong(Versioned::createRevision));
  }
}
