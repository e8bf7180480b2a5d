package io.dkv.controller;

import io.dkv.client.DkvClient;
import io.dkv.client.Election;
import io.dkv.client.FencingToken;
import io.dkv.client.Leadership;
import io.dkv.client.Versioned;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election for a {@link Manager}, on a DKV or etcd election (dkv-client's {@link Election}) with
 * client-go's timing: the leader holds a lease of {@code leaseDuration} and renews it every
 * {@code retryPeriod}; if no renewal succeeded for {@code renewDeadline} it steps down at once. Because the renew
 * deadline is shorter than the lease, a leader that cannot reach the server stops acting before its lease can
 * expire on the server, that is before another candidate can become leader. Leadership is also lost at once when
 * the server reports the lease expired or the leader key deleted.
 *
 * <p>On a cluster (a client with every member as an endpoint) each renewal is a keep-alive of its own that gives
 * up after {@code retryPeriod}, so the next one goes to another member: a member that dies or stops answering,
 * or a Raft leader change, does not cost the leadership while a majority lives.
 *
 * <p>The leader's {@link FencingToken} (the create revision of its key) lets reconcilers fence their writes.
 *
 * <pre>{@code
 * LeaderElector elector = LeaderElector.builder(client, "leader/jobs-controller")
 *     .identity("node-1")                         // defaults: lease 15 s, renew deadline 10 s, retry 2 s
 *     .build();
 * Manager manager = Manager.builder().leaderElector(elector).build();
 * }</pre>
 *
 * <p>An elector is used by one manager and runs one term: after leadership is lost or the elector is closed,
 * a new elector (in practice, a restarted process) campaigns again, as with controller-runtime.
 */
public final class LeaderElector implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LeaderElector.class);

  /** What the manager does when leadership starts and stops. */
  interface Callbacks {
    void startedLeading(FencingToken token);

    void stoppedLeading(String reason);
  }

  private enum State { IDLE, CAMPAIGNING, LEADING, LOST, CLOSED }

  private final DkvClient client;
  private final Election election;
  private final String identity;
  private final Duration leaseDuration;
  private final long renewDeadlineNanos;
  private final long retryNanos;
  private final ScheduledExecutorService timer;

  private State state = State.IDLE;
  private Callbacks callbacks;
  private CompletableFuture<Leadership> campaign;
  private Leadership leadership;
  private long leaseId;
  private volatile FencingToken token;
  private volatile long lastRenewNanos;
  private volatile long lastAttemptNanos;
  private volatile boolean renewInFlight;
  private ScheduledFuture<?> renewTask;

  private LeaderElector(Builder b) {
    this.client = b.client;
    this.election = b.client.election(b.electionName, b.leaseDuration);
    this.identity = b.identity;
    this.leaseDuration = b.leaseDuration;
    this.renewDeadlineNanos = b.renewDeadline.toNanos();
    this.retryNanos = b.retryPeriod.toNanos();
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "leader-elector-" + b.electionName);
      t.setDaemon(true);
      return t;
    });
  }

  /** A builder for an election named {@code electionName} (the key prefix its candidates' keys live under). */
  public static Builder builder(DkvClient client, String electionName) {
    return new Builder(client, electionName);
  }

  /** This candidate's identity: the value of its key in the election. */
  public String identity() {
    return identity;
  }

  /** Whether this candidate leads now. */
  public boolean isLeader() {
    return token != null;
  }

  /** The fencing token of the current leadership, while this candidate leads. */
  public Optional<FencingToken> fencingToken() {
    return Optional.ofNullable(token);
  }

  /** The identity of the current leader as the server sees it, if any (a read from the server). */
  public Optional<String> currentLeader() {
    return election.leader().map(Versioned::value);
  }

  /** Starts campaigning; {@code callbacks} hear when leadership starts and stops. */
  synchronized void start(Callbacks callbacks) {
    if (state != State.IDLE) {
      throw new IllegalStateException("leader elector " + identity + " was already started; it runs one term");
    }
    this.callbacks = Objects.requireNonNull(callbacks, "callbacks");
    state = State.CAMPAIGNING;
    campaign();
  }

  private synchronized void campaign() {
    if (state != State.CAMPAIGNING) {
      return;
    }
    log.info("{} campaigns in election {}", identity, election.name());
    campaign = election.campaignAsync(identity);
    campaign.whenCompleteAsync((l, e) -> {
      if (e != null) {
        synchronized (this) {
          if (state == State.CAMPAIGNING && !campaign.isCancelled()) {
            log.warn("{}: campaign failed, retrying in {} ms: {}", identity, retryNanos / 1_000_000, e.toString());
            timer.schedule(this::campaign, retryNanos, TimeUnit.NANOSECONDS);
          }
        }
        return;
      }
      won(l);
    }, timer);
  }

  private void won(Leadership l) {
    long sent = System.nanoTime();
    long lease;
    try {
      lease = client.get(l.key()).map(Versioned::lease)
          .orElseThrow(() -> new IllegalStateException("the leader key " + l.key() + " vanished"));
      LeaseKeepAliveResponse r = confirm(lease, sent);
      if (r.getTTL() <= 0) {
        throw new IllegalStateException("the leader lease expired");
      }
    } catch (RuntimeException e) {
      log.warn("{}: won election {} but could not confirm its lease; retrying: {}", identity, election.name(),
          e.toString());
      l.resign();
      timer.schedule(this::campaign, retryNanos, TimeUnit.NANOSECONDS);
      return;
    }
    synchronized (this) {
      if (state != State.CAMPAIGNING) {
        l.resign();
        return;
      }
      leadership = l;
      leaseId = lease;
      lastRenewNanos = sent;
      lastAttemptNanos = sent;
      state = State.LEADING;
      token = l.fencingToken();
      long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(10), retryNanos / 10);
      renewTask = timer.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.NANOSECONDS);
      log.info("{} leads election {} (lease {}) with fencing token {}", identity, election.name(), leaseDuration,
          token.revision());
      callbacks.startedLeading(token);
    }
    l.onLost(() -> lose("leadership lost (lease expired or leader key deleted)"));
  }

  /**
   * One keep-alive of the leader lease, sent again (to another member: each is a new request) after an attempt
   * that failed or got no answer within the retry period, until one succeeds or the renew deadline since
   * {@code since} has passed.
   */
  private LeaseKeepAliveResponse confirm(long lease, long since) {
    RuntimeException last = null;
    while (System.nanoTime() - since < renewDeadlineNanos) {
      try {
        return Futures.await(renewal(lease), Duration.ofNanos(retryNanos + 1), "renewing the leader lease");
      } catch (RuntimeException e) {
        last = e;
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // not a busy loop
      }
    }
    throw last != null ? last : new IllegalStateException("no renewal within the renew deadline");
  }

  /**
   * A keep-alive of {@code lease} that gives up after the retry period: a member that stops answering (paused,
   * cut off) keeps its connection open, and the next attempt goes to another member.
   */
  private CompletableFuture<LeaseKeepAliveResponse> renewal(long lease) {
    return client.jetcd().getLeaseClient().keepAliveOnce(lease).orTimeout(retryNanos, TimeUnit.NANOSECONDS);
  }

  /** Renews every retry period; steps down once the renew deadline passed without a renewal. */
  private void tick() {
    long now = System.nanoTime();
    if (now - lastRenewNanos > renewDeadlineNanos) {
      lose("no renewal succeeded within the renew deadline of " + Duration.ofNanos(renewDeadlineNanos));
      return;
    }
    if (renewInFlight || now - lastAttemptNanos < retryNanos) {
      return;
    }
    long id;
    synchronized (this) {
      if (state != State.LEADING) {
        return;
      }
      id = leaseId;
    }
    renewInFlight = true;
    lastAttemptNanos = now;
    renewal(id).whenComplete((r, e) -> {
      renewInFlight = false;
      if (e != null) {
        log.debug("{}: renewing lease {} failed: {}", identity, id, e.toString());
      } else if (r.getTTL() <= 0) {
        lose("the server reports the leader lease expired");
      } else if (now - lastRenewNanos > 0) {
        lastRenewNanos = now;
      }
    });
  }

  /** Leadership ended against our will: tell the manager at once (it stops its controllers), then resign. */
  private void lose(String reason) {
    Leadership l;
    synchronized (this) {
      if (state != State.LEADING) {
        return;
      }
      state = State.LOST;
      token = null;
      renewTask.cancel(false);
      l = leadership;
      log.warn("{} stops leading election {}: {}", identity, election.name(), reason);
      try {
        callbacks.stoppedLeading(reason);
      } catch (RuntimeException e) {
        log.error("{}: stopping after the loss of leadership failed", identity, e);
      }
    }
    timer.execute(() -> {
      try {
        l.resign(); // frees the election for the next candidate if the key and lease still exist
      } catch (RuntimeException e) {
        log.debug("{}: resigning after the loss failed; the lease will expire", identity, e);
      }
    });
  }

  /**
   * Withdraws the candidacy or resigns the leadership (the next candidate leads at once) without calling the
   * stop callback: the manager stops its controllers before it closes the elector.
   */
  @Override
  public void close() {
    Leadership l;
    synchronized (this) {
      if (state == State.CLOSED) {
        return;
      }
      l = state == State.LEADING ? leadership : null; // after a loss, lose() has resigned already
      state = State.CLOSED;
      token = null;
      if (campaign != null) {
        campaign.cancel(false);
      }
      if (renewTask != null) {
        renewTask.cancel(false);
      }
    }
    if (l != null) {
      try {
        l.resign();
      } catch (RuntimeException e) {
        log.warn("{}: resigning failed; the lease will expire", identity, e);
      }
    }
    timer.shutdown();
  }

  /** Options of a {@link LeaderElector}. */
  public static final class Builder {
    private final DkvClient client;
    private final String electionName;
    private String identity;
    private Duration leaseDuration = Duration.ofSeconds(15);
    private Duration renewDeadline = Duration.ofSeconds(10);
    private Duration retryPeriod = Duration.ofSeconds(2);

    private Builder(DkvClient client, String electionName) {
      this.client = Objects.requireNonNull(client, "client");
      Objects.requireNonNull(electionName, "electionName");
      if (electionName.isBlank()) {
        throw new IllegalArgumentException("the election name must not be blank");
      }
      this.electionName = electionName;
    }

    /** This candidate's identity (default: host name and a random suffix). */
    public Builder identity(String identity) {
      Objects.requireNonNull(identity, "identity");
      if (identity.isBlank()) {
        throw new IllegalArgumentException("the identity must not be blank");
      }
      this.identity = identity;
      return this;
    }

    /** The leader lease's TTL, in whole seconds (default 15 s). */
    public Builder leaseDuration(Duration d) {
      this.leaseDuration = positive(d, "leaseDuration");
      if (d.toMillis() % 1000 != 0) {
        throw new IllegalArgumentException("leaseDuration must be whole seconds (an etcd lease TTL), got " + d);
      }
      return this;
    }

    /** How long the leader keeps leading without a successful renewal (default 10 s). */
    public Builder renewDeadline(Duration d) {
      this.renewDeadline = positive(d, "renewDeadline");
      return this;
    }

    /** How often the leader renews and a failed campaign retries (default 2 s). */
    public Builder retryPeriod(Duration d) {
      this.retryPeriod = positive(d, "retryPeriod");
      return this;
    }

    /**
     * A new elector, not campaigning yet.
     *
     * @throws IllegalArgumentException unless retryPeriod &lt; renewDeadline &lt; leaseDuration
     */
    public LeaderElector build() {
      if (renewDeadline.compareTo(leaseDuration) >= 0) {
        throw new IllegalArgumentException("renewDeadline " + renewDeadline + " must be shorter than leaseDuration "
            + leaseDuration + ", so a leader stops before its lease can expire");
      }
      if (retryPeriod.compareTo(renewDeadline) >= 0) {
        throw new IllegalArgumentException("retryPeriod " + retryPeriod + " must be shorter than renewDeadline "
            + renewDeadline);
      }
      if (identity == null) {
        identity = defaultIdentity();
      }
      return new LeaderElector(this);
    }

    private static String defaultIdentity() {
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (Exception e) {
        host = "localhost";
      }
      return host + "_" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }
  }
}
