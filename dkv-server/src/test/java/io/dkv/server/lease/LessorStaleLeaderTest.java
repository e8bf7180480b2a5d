package io.dkv.server.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader paused while another was elected still believes it leads when it resumes, with its leases' deadlines
 * long past (their keep-alives went to the new leader): it confirms its leadership (a read barrier) before it
 * proposes a revoke, and proposes none once the barrier tells it that it no longer leads.
 */
class LessorStaleLeaderTest {

  @TempDir
  Path dir;

  /** Applies as {@link DirectProposer}; records revokes; a barrier that fails while {@code stale}. */
  private static final class StaleLeader extends DirectProposer {
    final AtomicBoolean leader = new AtomicBoolean(true);
    final AtomicBoolean stale = new AtomicBoolean();
    final List<Long> revokes = new CopyOnWriteArrayList<>();
    /** When set, the barrier completes when the test completes this. */
    volatile CompletableFuture<Void> barrier;

    StaleLeader(MvccStore store, Lessor lessor, io.dkv.server.alarm.AlarmStore alarms) {
      super(store, lessor, alarms);
    }

    @Override
    public CompletableFuture<Message> propose(Message request) {
      if (request instanceof LeaseRevokeRequest r) {
        revokes.add(r.getID());
      }
      return super.propose(request);
    }

    @Override
    public CompletableFuture<Void> readBarrier() {
      if (stale.get()) {
        leader.set(false); // the round met the new leader's term: this member steps down
        return CompletableFuture.failedFuture(EtcdError.LEADER_CHANGED.exception());
      }
      CompletableFuture<Void> b = barrier;
      return b != null ? b : CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean isLeader() {
      return leader.get();
    }
  }

  @Test
  void aLeaderThatNoLongerLeadsRevokesNoLeaseWhenItResumes() throws Exception {
    withLessor((lessor, p, clock) -> {
      lessor.promote(java.time.Duration.ZERO);
      p.propose(LeaseGrantRequest.newBuilder().setID(1).setTTL(5).build()).get(10, TimeUnit.SECONDS);
      p.propose(LeaseGrantRequest.newBuilder().setID(2).setTTL(60).build()).get(10, TimeUnit.SECONDS);

      // paused 30 s: lease 1's deadline passed here; meanwhile another member leads
      clock.set(TimeUnit.SECONDS.toNanos(30));
      p.stale.set(true);
      lessor.expire();
      assertTrue(p.revokes.isEmpty(), "no revoke from a leader that is not one: " + p.revokes);
      assertTrue(lessor.exists(1), "lease 1 lives");
      assertFalse(p.isLeader());
      assertEquals(0, lessor.expire(), "no longer the leader: nothing to expire");

      // leading again (its leadership confirmed): the lease it still holds past its deadline is revoked
      p.stale.set(false);
      p.leader.set(true);
      assertEquals(1, lessor.expire());
      assertEquals(List.of(1L), p.revokes);
      assertFalse(lessor.exists(1), "revoked once the leadership is confirmed");
      assertTrue(lessor.exists(2));
    });
  }

  @Test
  void aNewLeaderExpiresNothingByItsFollowerDeadlinesBeforeItIsPromoted() throws Exception {
    withLessor((lessor, p, clock) -> {
      // granted while a follower: its deadline here is the grant's, never renewed (keep-alives go to the leader)
      p.propose(LeaseGrantRequest.newBuilder().setID(1).setTTL(5).build()).get(10, TimeUnit.SECONDS);
      clock.set(TimeUnit.SECONDS.toNanos(30));
      assertEquals(0, lessor.expire(), "elected, not promoted yet: the follower's deadlines are no deadlines");
      assertThrows(EtcdException.class, () -> lessor.renew(1), "past its deadline here: no answer yet");

      // promoted while a check that found the lease due waits for its barrier: the lease is not revoked
      lessor.promote(java.time.Duration.ZERO);
      lessor.demote();
      lessor.promote(java.time.Duration.ZERO);
      clock.set(TimeUnit.SECONDS.toNanos(36));
      p.barrier = new CompletableFuture<>();
      assertEquals(1, lessor.expire());
      lessor.promote(java.time.Duration.ofSeconds(1));
      p.barrier.complete(null);
      assertEquals(List.of(), p.revokes, "renewed by the promotion before the barrier completed");
      assertEquals(5, lessor.renew(1));
      lessor.demote();
      clock.set(TimeUnit.SECONDS.toNanos(100));
      p.barrier = null;
      assertEquals(0, lessor.expire(), "demoted: nothing expired");
      assertTrue(lessor.exists(1));
    });
  }

  private interface Body {
    void run(Lessor lessor, StaleLeader p, AtomicLong clock) throws Exception;
  }

  /** A lessor on a fresh store whose proposer is a {@link StaleLeader}, its clock the test's. */
  private void withLessor(Body body) throws Exception {
    AtomicLong clock = new AtomicLong();
    try (Backend backend = Backend.open(dir)) {
      MvccStore store = MvccStore.open(backend);
      Lessor lessor = Lessor.open(backend, store, clock::get);
      try (StaleLeader p = new StaleLeader(store, lessor, io.dkv.server.alarm.AlarmStore.load(backend))) {
        lessor.proposeTo(p);
        body.run(lessor, p, clock);
      }
    }
  }
}
