package io.dkv.server.raft;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.HashKVResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Etcd's corruption checks ({@code etcdserver/corrupt.go}), on HashKV: the initial one, before a member that has
 * data serves ({@code --experimental-initial-corrupt-check}), and the leader's periodic one
 * ({@code --experimental-corrupt-check-time}), which raises the CORRUPT alarm through the log. As etcd 3.4.22+
 * and 3.5, the alarm is raised for member 0: which member's data is wrong is not decided, only logged.
 */
final class CorruptionCheck implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CorruptionCheck.class);

  /** What the periodic check needs of this member. */
  interface Hasher {
    long selfId();

    /** This member's HashKV at {@code rev} (0: the current revision). */
    MvccStore.Hash hashKv(long rev);

    /** The other members' HashKV at {@code rev}. */
    List<PeerHashes.Answer> peerHashes(long rev);

    /** Completes once this member has applied everything committed when called (a linearizable read's wait). */
    CompletableFuture<Void> readBarrier();

    boolean isLeader();

    /** Proposes the CORRUPT alarm (etcd's triggerCorruptAlarm). */
    void raiseCorrupt();
  }

  private final Hasher hasher;
  private final Duration timeout;
  private final ScheduledExecutorService timer;

  private CorruptionCheck(Hasher hasher, Duration interval, Duration timeout) {
    this.hasher = hasher;
    this.timeout = timeout;
    this.timer = Executors.newSingleThreadScheduledExecutor(
        new ThreadFactoryBuilder().setNameFormat("dkv-corruption-check").setDaemon(true).build());
    log.info("enabled corruption checking every {} (local member {})", interval, MemberIds.hex(hasher.selfId()));
    timer.scheduleWithFixedDelay(this::tick, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Runs {@link #periodic} every {@code interval} while this member leads; {@code timeout} bounds its read wait. */
  static CorruptionCheck every(Duration interval, Duration timeout, Hasher hasher) {
    return new CorruptionCheck(hasher, interval, timeout);
  }

  private void tick() {
    if (!hasher.isLeader()) {
      return;
    }
    try {
      periodic(hasher, timeout);
    } catch (Exception e) {
      log.warn("failed to check hash KV: {}", e.toString());
    }
  }

  /**
   * Etcd's CheckInitialHashKV: this member's hash at its current revision against every other member's at the
   * same revision; a member that answers another hash with the same compact revision is a mismatch.
   *
   * @param h this member's hash at its current revision
   * @param peerHashes the other members' hashes at a revision
   * @throws IOException with etcd's message ({@code <member id> found data inconsistency with peers}) on any
   *     mismatch
   */
  static void initial(long selfId, MvccStore.Hash h, java.util.function.LongFunction<List<PeerHashes.Answer>>
      peerHashes) throws IOException {
    String self = MemberIds.hex(selfId);
    log.info("starting initial corruption check (local member {})", self);
    int mismatch = 0;
    for (PeerHashes.Answer a : peerHashes.apply(h.currentRev())) {
      HashKVResponse r = a.response();
      String peer = MemberIds.hex(a.memberId());
      if (r != null) {
        if (r.getHash() != h.hash()) {
          if (r.getCompactRevision() == h.compactRev()) {
            log.warn("found different hash values from remote peer {} {}: local revision {}, compact revision {}, "
                + "hash {}; remote revision {}, compact revision {}, hash {}", peer, a.peerUrls(), h.currentRev(),
                h.compactRev(), Integer.toUnsignedString(h.hash()), r.getHeader().getRevision(),
                r.getCompactRevision(), Integer.toUnsignedString(r.getHash()));
            mismatch++;
          } else {
            log.warn("found different compact revision values from remote peer {}: local {}, remote {}", peer,
                h.compactRev(), r.getCompactRevision());
          }
        }
      } else if (a.error() == EtcdError.FUTURE_REV) {
        log.warn("cannot fetch hash from slow remote peer {} at revision {}", peer, h.currentRev());
      } else if (a.error() == EtcdError.COMPACTED) {
        log.warn("cannot fetch hash from remote peer {} at revision {}; local member is behind", peer,
            h.currentRev());
      }
    }
    if (mismatch > 0) {
      throw new IOException(self + " found data inconsistency with peers");
    }
    log.info("initial corruption checking passed; no corruption (local member {})", self);
  }

  /**
   * Etcd's checkHashKV, on the leader: its hash at its current revision, the other members' at that revision,
   * then (after a linearizable wait) its own again. The leader's own hash changing at the same revision and
   * compact revision, a member ahead of the leader in revision or compact revision, or a member with the
   * leader's first compact revision and another hash, raises the CORRUPT alarm (once a check).
   *
   * @return whether it raised the alarm
   */
  static boolean periodic(Hasher hasher, Duration timeout) throws Exception {
    MvccStore.Hash h = hasher.hashKv(0);
    List<PeerHashes.Answer> peers = hasher.peerHashes(h.currentRev());
    hasher.readBarrier().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    MvccStore.Hash h2 = hasher.hashKv(0);
    boolean mismatch = false;
    if (h2.hash() != h.hash() && h2.currentRev() == h.currentRev() && h2.compactRev() == h.compactRev()) {
      log.warn("found hash mismatch on this member at revision {} (compact revision {}): {} then {}",
          h.currentRev(), h.compactRev(), Integer.toUnsignedString(h.hash()), Integer.toUnsignedString(h2.hash()));
      mismatch = true;
    }
    int checked = 0;
    for (PeerHashes.Answer a : peers) {
      HashKVResponse r = a.response();
      if (r == null) {
        continue;
      }
      checked++;
      String peer = MemberIds.hex(a.memberId());
      if (r.getHeader().getRevision() > h2.currentRev()) {
        log.warn("revision from follower must be less than or equal to leader's: leader {}, follower {} {}",
            h2.currentRev(), peer, r.getHeader().getRevision());
        mismatch = true;
      }
      if (r.getCompactRevision() > h2.compactRev()) {
        log.warn("compact revision from follower must be less than or equal to leader's: leader {}, follower {} {}",
            h2.compactRev(), peer, r.getCompactRevision());
        mismatch = true;
      }
      if (r.getCompactRevision() == h.compactRev() && r.getHash() != h.hash()) {
        log.warn("same compact revision then hashes must match: at revision {} (compact revision {}) the leader "
            + "has hash {}, follower {} hash {}", h.currentRev(), h.compactRev(), Integer.toUnsignedString(h.hash()),
            peer, Integer.toUnsignedString(r.getHash()));
        mismatch = true;
      }
    }
    log.debug("finished peer corruption check: {} peer(s) checked", checked);
    if (mismatch) {
      hasher.raiseCorrupt();
    }
    return mismatch;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
