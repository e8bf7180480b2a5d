package io.dkv.server.lease;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.dkv.server.apply.LeaseState;
import io.dkv.server.apply.Proposer;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.mvcc.ReadView;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases, as etcd's primary lessor keeps them.
 *
 * <p>Grants, revokes and which keys a lease holds change only through the applier ({@link LeaseState}, on
 * the writer thread, deterministic, durable in the same batch as the keyspace). Expiry is decided here, by
 * a clock outside the applier: a deadline queue ({@link ExpiryQueue}) is checked every 100 ms at its head
 * only, and every expired lease is proposed as a {@link LeaseRevokeRequest}, so its keys go through the
 * write path like any delete. Keep-alives refresh deadlines in memory only; after a restart every lease
 * gets its full TTL again, as in etcd.
 */
public final class Lessor implements LeaseState, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Lessor.class);

  /** Etcd's minimum TTL with its default 100 ms heartbeat and 1 s election timeout: ceil(1.5 s). */
  public static final long MIN_TTL_SECONDS = 2;
  /** Etcd's largest TTL. */
  public static final long MAX_TTL_SECONDS = 9_000_000_000L;
  private static final long CHECK_INTERVAL_MS = 100;

  private final Map<Long, Lease> leases = new ConcurrentHashMap<>();
  private final Map<ByteString, Long> keyLease = new HashMap<>(); // writer thread
  private final ExpiryQueue queue = new ExpiryQueue();
  private final Backend backend;
  private final MvccStore store;
  private final LongSupplier clock;
  private ScheduledExecutorService timer;
  private volatile Proposer proposer;
  /** Promoted and not demoted since: only then are leases expired here. */
  private volatile boolean primary;

  Lessor(Backend backend, MvccStore store, LongSupplier nanoClock) {
    this.backend = backend;
    this.store = store;
    this.clock = nanoClock;
  }

  /**
   * Loads the leases stored in {@code backend}, each with its full TTL from now, and attaches to them the
   * keys of {@code store} that name them. Call before the writer starts.
   */
  public static Lessor open(Backend backend, MvccStore store) {
    return open(backend, store, System::nanoTime);
  }

  private static final int RESTORE_PAGE = 1000;

  static Lessor open(Backend backend, MvccStore store, LongSupplier nanoClock) {
    Lessor l = new Lessor(backend, store, nanoClock);
    l.load();
    return l;
  }

  /**
   * Forgets every lease and loads them again from the backend, after another member's state was installed
   * (writer thread); each gets its full TTL from now.
   */
  public void reload() {
    leases.clear();
    keyLease.clear();
    load();
  }

  private void load() {
    long now = clock.getAsLong();
    backend.scanLeases((value, id) -> {
      try {
        Lease lease = new Lease(id, LeaseGrantRequest.parseFrom(value).getTTL());
        schedule(lease, now);
        leases.put(id, lease);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("corrupt lease record " + id, e);
      }
    });
    if (!leases.isEmpty()) {
      // attach the keys that name a lease, a page at a time so that a large store is never read whole
      ReadView view = store.read();
      ByteString from = ByteString.copyFrom(new byte[1]);
      ByteString all = ByteString.copyFrom(new byte[1]);
      List<KeyValue> page;
      do {
        page = view.range(from, all, RESTORE_PAGE, 0, false).kvs();
        written(page.stream().filter(kv -> kv.getLease() != 0)
            .map(kv -> Event.newBuilder().setKv(kv).build()).toList());
        if (!page.isEmpty()) {
          from = page.get(page.size() - 1).getKey().concat(ByteString.copyFrom(new byte[1]));
        }
      } while (page.size() == RESTORE_PAGE);
    }
    log.info("restored {} leases", leases.size());
  }

  /** Starts expiring leases: each expired one is proposed to {@code proposer} as a revoke. */
  public synchronized void start(Proposer proposer) {
    proposeTo(proposer);
    timer = Executors.newSingleThreadScheduledExecutor(
        new ThreadFactoryBuilder().setNameFormat("dkv-lessor").setDaemon(true).build());
    timer.scheduleWithFixedDelay(this::expire, CHECK_INTERVAL_MS, CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
  }

  /** Where {@link #expire} proposes revokes (tests call {@link #expire} themselves, without the timer). */
  void proposeTo(Proposer proposer) {
    this.proposer = proposer;
  }

  private void schedule(Lease lease, long now) {
    long deadline = now + TimeUnit.SECONDS.toNanos(Math.min(lease.ttlSeconds, Long.MAX_VALUE / 2_000_000_000L));
    synchronized (lease) {
      lease.deadline = deadline;
    }
    queue.add(lease.id, deadline);
  }

  /**
   * This member has become the leader: every lease gets its full TTL again from now plus {@code extend}
   * (etcd's rule: the election timeout), since the old leader's keep-alives are not known here.
   */
  public void promote(java.time.Duration extend) {
    long now = clock.getAsLong() + extend.toNanos();
    for (Lease lease : leases.values()) {
      schedule(lease, now);
    }
    primary = true;
    log.info("leading: {} leases renewed for their TTL plus {} ms", leases.size(), extend.toMillis());
  }

  /**
   * This member does not lead (any more): it expires nothing until it is promoted again. Between its election and
   * its promotion (once its first entry is applied) a new leader's deadlines are the ones it had as a follower,
   * long past; expiring by them revoked live leases.
   */
  public void demote() {
    primary = false;
  }

  /**
   * Proposes a revoke for every lease past its deadline (only on the leader); returns how many. The leadership is
   * confirmed first (a read barrier: ReadIndex, a round with a quorum): a leader paused (SIGSTOP) while another
   * was elected still believes it leads when it resumes, and its leases' deadlines passed while the keep-alives
   * went to the new leader; its revokes, forwarded to the new leader, would revoke live leases.
   */
  int expire() {
    if (!primary || !proposer.isLeader()) {
      return 0;
    }
    List<Lease> due = new java.util.ArrayList<>();
    List<Long> deadlines = new java.util.ArrayList<>();
    try {
      for (ExpiryQueue.Due d : queue.pollDue(clock.getAsLong())) {
        Lease lease = leases.get(d.id());
        if (lease == null) {
          continue;
        }
        synchronized (lease) {
          if (lease.deadline != d.deadline() || lease.revoking) {
            continue; // renewed since, or already being revoked
          }
          lease.revoking = true;
        }
        due.add(lease);
        deadlines.add(d.deadline());
      }
    } catch (RuntimeException e) {
      log.error("lease expiry check failed", e);
    }
    if (due.isEmpty()) {
      return 0;
    }
    Proposer p = proposer;
    p.readBarrier().whenComplete((v, e) -> {
      boolean leading = e == null && p.isLeader() && primary;
      for (int i = 0; i < due.size(); i++) {
        Lease lease = due.get(i);
        boolean renewed;
        synchronized (lease) {
          renewed = lease.deadline != deadlines.get(i); // promoted meanwhile: a new deadline is queued
          if (renewed) {
            lease.revoking = false;
          }
        }
        if (renewed) {
          continue;
        }
        if (leading) {
          revoke(p, lease, deadlines.get(i));
        } else {
          retryLater(lease, deadlines.get(i)); // the next check asks again, if this member still leads
        }
      }
    });
    return due.size();
  }

  private void revoke(Proposer p, Lease lease, long deadline) {
    p.propose(LeaseRevokeRequest.newBuilder().setID(lease.id).build()).whenComplete((r, err) -> {
      Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (cause instanceof EtcdException e && e.error() == EtcdError.STOPPED) {
        return;
      }
      if (cause != null && !(cause instanceof EtcdException e && e.error() == EtcdError.LEASE_NOT_FOUND)) {
        if (cause instanceof EtcdException e && e.error() == EtcdError.CORRUPT) {
          log.debug("revoking expired lease {} refused while the CORRUPT alarm is raised; retrying", lease.id);
        } else {
          log.warn("revoking expired lease {} failed; retrying", lease.id, cause);
        }
        retryLater(lease, deadline);
      }
    });
  }

  private void retryLater(Lease lease, long deadline) {
    synchronized (lease) {
      lease.revoking = false;
    }
    queue.add(lease.id, deadline);
  }

  // --- LeaseState: writer thread ---

  @Override
  public boolean exists(long id) {
    return leases.containsKey(id);
  }

  @Override
  public long grant(long id, long ttl) {
    if (ttl > MAX_TTL_SECONDS) {
      throw EtcdError.LEASE_TTL_TOO_LARGE.exception();
    }
    if (leases.containsKey(id)) {
      throw EtcdError.LEASE_EXISTS.exception();
    }
    Lease lease = new Lease(id, Math.max(ttl, MIN_TTL_SECONDS));
    backend.putLease(store.batch(), id, LeaseGrantRequest.newBuilder().setID(id).setTTL(lease.ttlSeconds).build()
        .toByteArray());
    schedule(lease, clock.getAsLong());
    leases.put(id, lease);
    return lease.ttlSeconds;
  }

  @Override
  public List<ByteString> keysOf(long id) {
    Lease lease = leases.get(id);
    if (lease == null) {
      throw EtcdError.LEASE_NOT_FOUND.exception();
    }
    return sorted(lease);
  }

  private static List<ByteString> sorted(Lease lease) {
    List<ByteString> keys = new ArrayList<>(lease.keys);
    keys.sort(ByteString.unsignedLexicographicalComparator());
    return keys;
  }

  @Override
  public void remove(long id) {
    Lease lease = leases.remove(id);
    if (lease != null) {
      for (ByteString key : lease.keys) {
        keyLease.remove(key);
      }
      backend.deleteLease(store.batch(), id);
    }
  }

  @Override
  public void written(List<Event> events) {
    for (Event e : events) {
      ByteString key = e.getKv().getKey();
      long now = e.getType() == Event.EventType.DELETE ? 0 : e.getKv().getLease();
      Long before = now == 0 ? keyLease.remove(key) : keyLease.put(key, now);
      if (before != null && before != now) {
        Lease old = leases.get(before);
        if (old != null) {
          old.keys.remove(key);
        }
      }
      if (now != 0) {
        Lease lease = leases.get(now);
        if (lease != null) {
          lease.keys.add(key);
        }
      }
    }
  }

  // --- queries and keep-alive: any thread ---

  /**
   * Keeps lease {@code id} alive for its full TTL from now; returns that TTL, or 0 if the lease does not
   * exist (as etcd answers a keep-alive).
   *
   * @throws EtcdException {@code NOT_LEADER} if the lease is past its deadline but not revoked yet: as etcd's
   *     lessor, which waits for the revoke or its demotion, this is no answer yet. A leader paused (SIGSTOP) while
   *     another was elected still believes it leads when it resumes, its leases' deadlines passed meanwhile,
   *     while the new leader kept them alive; its revokes are refused (the leadership is confirmed first), and its
   *     keep-alive answers must not tell the client that the lease is gone. The client asks again, here or
   *     elsewhere, and learns the truth once the revoke is applied or this member stepped down.
   */
  public long renew(long id) {
    Lease lease = leases.get(id);
    if (lease == null) {
      return 0;
    }
    long now = clock.getAsLong();
    synchronized (lease) {
      if (lease.revoking || lease.deadline - now <= 0) {
        throw EtcdError.NOT_LEADER.exception();
      }
    }
    schedule(lease, now);
    return lease.ttlSeconds;
  }

  /** A lease's state: remaining whole seconds (truncated, as etcd), granted TTL, attached keys in order. */
  public record TimeToLive(long id, long ttl, long grantedTtl, List<ByteString> keys) {}

  /** The state of lease {@code id}, or null if it does not exist. */
  public TimeToLive timeToLive(long id) {
    Lease lease = leases.get(id);
    if (lease == null) {
      return null;
    }
    long remaining;
    synchronized (lease) {
      remaining = lease.deadline - clock.getAsLong();
    }
    return new TimeToLive(id, Math.max(0, TimeUnit.NANOSECONDS.toSeconds(remaining)), lease.ttlSeconds,
        sorted(lease));
  }

  /** The ids of all leases, soonest expiry first (as etcd lists them). */
  public List<Long> ids() {
    record Entry(long deadline, long id) {}
    List<Entry> all = new ArrayList<>();
    for (Lease lease : leases.values()) {
      synchronized (lease) {
        all.add(new Entry(lease.deadline, lease.id));
      }
    }
    all.sort(Comparator.comparingLong(Entry::deadline));
    return all.stream().map(Entry::id).toList();
  }

  /** How many leases exist. */
  public int size() {
    return leases.size();
  }

  /** Entries the expiry queue has examined, over its life (for tests: no scans of all leases). */
  long examined() {
    return queue.examined();
  }

  /** Stops expiring leases. */
  @Override
  public synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
