package io.dkv.server.raft;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.ResponseHeader;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Etcd's rules of the initial and the periodic corruption check, on hashes given to them. */
class CorruptionCheckTest {

  private static final long SELF = 0x8e9e05c52164694dL;

  /** A member whose own hashes come in turn from {@code own} and whose peers answer {@code peers}. */
  private static final class Fake implements CorruptionCheck.Hasher {
    final Deque<MvccStore.Hash> own = new ArrayDeque<>();
    final List<PeerHashes.Answer> peers = new ArrayList<>();
    final List<Long> askedAt = new ArrayList<>();
    int raised;

    Fake own(int hash, long compactRev, long rev) {
      own.add(new MvccStore.Hash(hash, compactRev, rev));
      return this;
    }

    Fake peer(long id, int hash, long compactRev, long rev) {
      peers.add(new PeerHashes.Answer(id, List.of("http://m.dkv:1"), HashKVResponse.newBuilder()
          .setHeader(ResponseHeader.newBuilder().setMemberId(id).setRevision(rev)).setHash(hash)
          .setCompactRevision(compactRev).build(), null));
      return this;
    }

    Fake failed(long id, EtcdError error) {
      peers.add(new PeerHashes.Answer(id, List.of("http://m.dkv:1"), null, error));
      return this;
    }

    @Override
    public long selfId() {
      return SELF;
    }

    @Override
    public MvccStore.Hash hashKv(long rev) {
      assertEquals(0, rev, "its own hash at its current revision");
      return own.size() > 1 ? own.poll() : own.peek();
    }

    @Override
    public List<PeerHashes.Answer> peerHashes(long rev) {
      askedAt.add(rev);
      return peers;
    }

    @Override
    public CompletableFuture<Void> readBarrier() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean isLeader() {
      return true;
    }

    @Override
    public void raiseCorrupt() {
      raised++;
    }
  }

  private static void initial(Fake f) throws IOException {
    CorruptionCheck.initial(f.selfId(), f.hashKv(0), f::peerHashes);
  }

  private static boolean periodic(Fake f) throws Exception {
    return CorruptionCheck.periodic(f, Duration.ofSeconds(1));
  }

  @Test
  void theInitialCheckRefusesWithEtcdsMessageWhenAPeerWithTheSameCompactRevisionHasAnotherHash() {
    Fake f = new Fake().own(111, 0, 9).peer(2, 111, 0, 12).peer(3, 222, 0, 12);
    IOException e = assertThrows(IOException.class, () -> initial(f));
    assertEquals("8e9e05c52164694d found data inconsistency with peers", e.getMessage());
    assertEquals(List.of(9L), f.askedAt, "the peers are asked at the local revision");
  }

  @Test
  void theInitialCheckPassesWhenHashesMatchOrCannotBeCompared() {
    // the same hash; another compact revision; a peer behind (future revision) or ahead (compacted); one silent
    Fake f = new Fake().own(111, 4, 9).peer(2, 111, 4, 12).peer(3, 333, 6, 12)
        .failed(4, EtcdError.FUTURE_REV).failed(5, EtcdError.COMPACTED).failed(6, null);
    assertDoesNotThrow(() -> initial(f));
    assertDoesNotThrow(() -> initial(new Fake().own(1, 0, 1)), "no peers");
  }

  @Test
  void thePeriodicCheckRaisesNothingWhileEveryMemberAgrees() throws Exception {
    Fake f = new Fake().own(111, 3, 9).peer(2, 111, 3, 9).peer(3, 111, 3, 8).failed(4, null);
    assertFalse(periodic(f));
    assertEquals(0, f.raised);
    // a follower that compacted less (an older compact revision) cannot be compared: not a mismatch
    assertFalse(periodic(new Fake().own(111, 3, 9).peer(2, 999, 1, 9)));
  }

  @Test
  void aFollowerWithTheLeadersCompactRevisionAndAnotherHashRaisesTheAlarmOnce() throws Exception {
    Fake f = new Fake().own(111, 0, 9).peer(2, 222, 0, 9).peer(3, 333, 0, 9);
    assertTrue(periodic(f));
    assertEquals(1, f.raised, "once a check, however many members differ");
  }

  @Test
  void aFollowerAheadOfTheLeaderInRevisionOrCompactRevisionRaisesTheAlarm() throws Exception {
    assertTrue(periodic(new Fake().own(111, 0, 9).peer(2, 111, 0, 10)));
    assertTrue(periodic(new Fake().own(111, 2, 9).peer(2, 555, 3, 9)));
  }

  @Test
  void theLeadersOwnHashChangingAtTheSameRevisionRaisesTheAlarm() throws Exception {
    Fake f = new Fake().own(111, 0, 9).own(112, 0, 9);
    assertTrue(periodic(f));
    // its hash at a later revision is another hash, not a mismatch
    assertFalse(periodic(new Fake().own(111, 0, 9).own(112, 0, 10).peer(2, 111, 0, 9)));
  }
}
