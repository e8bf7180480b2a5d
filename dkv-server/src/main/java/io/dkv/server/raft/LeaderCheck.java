package io.dkv.server.raft;

import io.dkv.server.mvcc.EtcdError;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.LogAppender;

/**
 * Confirms that this member still leads, for a linearizable read (etcd's ReadIndex): a majority of the voters
 * acknowledged an append (a heartbeat at least) that this leader sent after the confirmation was asked for, and
 * its term did not change meanwhile. A new leader needs the votes of a majority in a higher term, and those
 * voters refuse the old term's appends after voting, so no other leader was elected before the confirmation
 * began.
 *
 * <p>Ratis's own ReadIndex is not enough: it answers at once, with no heartbeat round, when no entry was
 * committed since its last confirmation, and a leader that was paused (SIGSTOP) or cut off while the others
 * elected a new one commits nothing, so on resuming it served linearizable reads of values the new leader had
 * overwritten, and its lessor revoked leases the new leader kept alive (StaleLeaderReadTest).
 *
 * <p>The leader's log appenders ({@link CommitTellingRpc}) report themselves and the replies they get.
 */
final class LeaderCheck {

  /** The appender of each follower, the latest one (a leader's next term makes new ones). */
  private final Map<RaftPeerId, LogAppender> appenders = new ConcurrentHashMap<>();
  private final Set<Round> open = ConcurrentHashMap.newKeySet();
  private final Executor completions;

  /**
   * @param completions where a confirmation completes (the reads waiting for it run there)
   */
  LeaderCheck(Executor completions) {
    this.completions = completions;
  }

  /** A new log appender of this member as leader. */
  void appender(LogAppender a) {
    appenders.put(a.getFollowerId(), a);
  }

  /** A follower's reply to one of {@code a}'s appends. */
  void replied(LogAppender a, AppendEntriesReplyProto reply) {
    if (!reply.getServerReply().getSuccess() || open.isEmpty()) {
      return;
    }
    long callId = reply.getServerReply().getCallId();
    for (Round r : open) {
      r.acked(a, callId);
    }
  }

  /** This member stepped down, or stops: every confirmation asked for fails (NOT_LEADER). */
  void stepDown() {
    for (Round r : open) {
      r.done.completeExceptionally(EtcdError.NOT_LEADER.exception());
    }
  }

  /**
   * Completes once a majority of the voters of {@code d}'s configuration (each of the old and the new one, while
   * it changes) acknowledged an append sent after this call, in the term of this call; fails with NOT_LEADER if
   * this member does not lead (or stops leading first), with a timeout after {@code timeoutMs}.
   */
  CompletableFuture<Void> confirm(RaftServer.Division d, long timeoutMs) {
    if (!d.getInfo().isLeader()) {
      return CompletableFuture.failedFuture(EtcdError.NOT_LEADER.exception());
    }
    Round r = new Round(d, d.getInfo().getCurrentTerm(), d.getRaftConf());
    open.add(r);
    r.done.whenComplete((v, e) -> open.remove(r));
    r.done.orTimeout(timeoutMs, TimeUnit.MILLISECONDS);
    r.start();
    return r.done;
  }

  /** An appender and its next call id when a confirmation began. */
  private record At(LogAppender appender, long callId) {}

  /** One confirmation: the call id each appender was at when it was asked for, and who has acknowledged since. */
  private final class Round {
    final RaftServer.Division division;
    final long term;
    final RaftConfiguration conf;
    final Map<RaftPeerId, At> from = new HashMap<>();
    final Set<RaftPeerId> acked = ConcurrentHashMap.newKeySet();
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Round(RaftServer.Division division, long term, RaftConfiguration conf) {
      this.division = division;
      this.term = term;
      this.conf = conf;
      acked.add(division.getId());
      synchronized (from) { // before the round is open: no reply counts until each appender's call id is noted
        appenders.forEach((id, a) -> from.put(id, new At(a, a.getCallId())));
      }
    }

    /** Has each appender send a heartbeat (a reply may come at once), once the round is open. */
    void start() {
      List<LogAppender> noted;
      synchronized (from) {
        noted = from.values().stream().map(At::appender).toList();
      }
      noted.forEach(LogAppender::triggerHeartbeat);
      check();
    }

    /**
     * A reply counts if its append was sent after the round began: it has a call id at least the appender's next
     * one then, or its appender (the follower's latest) was made after that (a restarted one: it counts its call
     * ids anew, and it sends only once made and reported here).
     */
    void acked(LogAppender a, long callId) {
      At at;
      synchronized (from) {
        at = from.get(a.getFollowerId());
      }
      boolean after = at == null || at.appender != a || a.getCallIdComparator().compare(callId, at.callId) >= 0;
      // an appender of an earlier leadership of this member's, replaced since, counts for nothing
      if (after && appenders.get(a.getFollowerId()) == a && acked.add(a.getFollowerId())) {
        check();
      }
    }

    private void check() {
      if (done.isDone() || !majority(conf.getCurrentPeers()) || !majority(conf.getPreviousPeers())) {
        return;
      }
      if (division.getInfo().isLeader() && division.getInfo().getCurrentTerm() == term) {
        done.completeAsync(() -> null, completions);
      } else {
        done.completeExceptionally(EtcdError.NOT_LEADER.exception());
      }
    }

    /** Whether a majority of {@code voters} acknowledged (an empty configuration: no old one, true). */
    private boolean majority(Collection<RaftPeer> voters) {
      long yes = voters.stream().filter(p -> acked.contains(p.getId())).count();
      return voters.isEmpty() || yes > voters.size() / 2;
    }
  }
}
