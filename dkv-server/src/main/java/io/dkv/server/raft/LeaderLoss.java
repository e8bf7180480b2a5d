package io.dkv.server.raft;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's rule for a follower that stops hearing from its leader, on top of Ratis's: after an election timeout E of
 * silence (plus E/5 for each follower before it in the order of member ids, so that two do not stand together and
 * split the vote) the follower asks the other voters whether they too have not heard from that leader for at least
 * E (etcd's pre-vote, as a member that checks the quorum answers it); when a majority has not, it stands at once,
 * without Ratis's own pre-vote round.
 *
 * <p>Ratis's follower notices the silence only when it wakes from a random sleep, so it stands after the rest of
 * one sleep and a whole second one (1.2 E on average for the first of two followers), and its pre-vote is often
 * refused: the other follower heard a heartbeat later, so the candidate waits for another sleep. Ratis's own election stays as it is; this
 * only comes first. A member cut off from the others gets no majority and stands for nothing: it does not raise
 * the term and disturb the cluster when it comes back, which is what the pre-vote is for.
 */
final class LeaderLoss implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LeaderLoss.class);

  /** What this needs of the member. */
  interface Raft {
    /** This member as a voting follower that knows its leader; null otherwise (leader, candidate, listener). */
    Follower follower();

    /** How many of the other voters answer that they have not heard from {@code leader} for an election timeout. */
    CompletableFuture<Integer> agreeing(String leader);

    /** The voters of the configuration, this member included. */
    int voters();

    /** This member's place (from 0) among the voters but {@code leader}, in the order of their ids. */
    int rank(String leader);

    /** Stands for election now against {@code follower}'s leader (Ratis may refuse: then its own election runs). */
    void stand(Follower follower);
  }

  /** A follower's view: its leader, the term, how long since it last heard from the leader. */
  record Follower(String leader, long term, long silenceMs) {}

  private final Raft raft;
  private final long electionMs;
  private final ScheduledFuture<?> ticks;
  /** Touched by the tick thread only. */
  private Follower episode;
  private long threshold;
  private volatile boolean asking;

  /** Looks at the silence every {@code tick} on {@code scheduler} (the member's, for short tasks), until closed. */
  LeaderLoss(Raft raft, Duration election, Duration tick, ScheduledExecutorService scheduler) {
    this.raft = raft;
    this.electionMs = election.toMillis();
    long ms = Math.max(1, tick.toMillis());
    this.ticks = scheduler.scheduleWithFixedDelay(this::tickSafely, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      log.warn("checking the leader's silence failed", e);
    }
  }

  /** One look at the follower's silence; package-private for the tests. */
  void tick() {
    Follower now = raft.follower();
    if (now == null) {
      episode = null;
      return;
    }
    if (episode == null || !episode.leader().equals(now.leader()) || episode.term() != now.term()
        || now.silenceMs() < episode.silenceMs()) {
      // a new leader, or word from it: the followers take turns, E/5 apart, so that two do not stand together
      // and split the vote (the heartbeats reach them within an interval of each other); a little jitter on top
      threshold = electionMs + raft.rank(now.leader()) * (electionMs / 5)
          + ThreadLocalRandom.current().nextLong(electionMs / 20 + 1);
    }
    episode = now;
    if (now.silenceMs() < threshold || asking) {
      return;
    }
    asking = true;
    raft.agreeing(now.leader()).whenComplete((agree, e) -> {
      try {
        if (e != null) {
          log.debug("asking the other members about leader {} failed", now.leader(), e);
          return;
        }
        Follower still = raft.follower();
        if ((agree + 1) * 2 > raft.voters() && still != null && still.leader().equals(now.leader())
            && still.term() == now.term() && still.silenceMs() >= electionMs) {
          log.info("no word from leader {} for {} ms, nor to {} of the other members for {} ms: standing for"
              + " election in term {}", now.leader(), still.silenceMs(), agree, electionMs, now.term() + 1);
          raft.stand(still);
        }
      } finally {
        asking = false;
      }
    });
  }

  /** The answer this member gives another one that asks about {@code leader}: whether it agrees it is gone. */
  static boolean agrees(Follower self, boolean leading, String leader, long electionMs) {
    if (leading) {
      return false;
    }
    if (self == null) {
      return true; // a candidate, or a follower without a leader: no leader to keep
    }
    return self.leader().equals(leader) && self.silenceMs() >= electionMs;
  }

  @Override
  public void close() {
    ticks.cancel(false);
  }
}
