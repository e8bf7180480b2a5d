package io.dkv.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LeaderLossTest {

  private static final Duration ELECTION = Duration.ofMillis(1000);

  /** A member whose view and peers' answers the test sets; records the questions and the stands. */
  private static final class FakeRaft implements LeaderLoss.Raft {
    volatile LeaderLoss.Follower follower;
    volatile CompletableFuture<Integer> answer = CompletableFuture.completedFuture(1);
    final List<String> asked = new ArrayList<>();
    final List<LeaderLoss.Follower> stood = new ArrayList<>();

    @Override
    public LeaderLoss.Follower follower() {
      return follower;
    }

    @Override
    public CompletableFuture<Integer> agreeing(String leader) {
      asked.add(leader);
      return answer;
    }

    volatile int rank;

    @Override
    public int voters() {
      return 3;
    }

    @Override
    public int rank(String leader) {
      return rank;
    }

    @Override
    public void stand(LeaderLoss.Follower f) {
      stood.add(f);
    }
  }

  private static final ScheduledExecutorService SCHEDULER = Executors.newSingleThreadScheduledExecutor();

  @AfterAll
  static void stopScheduler() {
    SCHEDULER.shutdownNow();
  }

  /** Ticks only when the test says (the scheduled ones are an hour apart). */
  private static LeaderLoss loss(FakeRaft raft) {
    return new LeaderLoss(raft, ELECTION, Duration.ofHours(1), SCHEDULER);
  }

  @Test
  void standsOnceTheSilenceReachesTheDrawAndAnotherMemberAgrees() {
    FakeRaft raft = new FakeRaft();
    try (LeaderLoss loss = loss(raft)) {
      raft.follower = new LeaderLoss.Follower("aa", 3, 999);
      loss.tick();
      assertEquals(List.of(), raft.asked, "under an election timeout of silence nobody is asked");
      raft.follower = new LeaderLoss.Follower("aa", 3, 1051);
      loss.tick();
      assertEquals(List.of("aa"), raft.asked);
      assertEquals(List.of(raft.follower), raft.stood);
    }
  }

  @Test
  void theSecondFollowerInTheOrderOfIdsWaitsAFifthOfTheTimeoutLonger() {
    FakeRaft raft = new FakeRaft();
    raft.rank = 1;
    try (LeaderLoss loss = loss(raft)) {
      raft.follower = new LeaderLoss.Follower("aa", 3, 1199);
      loss.tick();
      assertEquals(List.of(), raft.asked);
      raft.follower = new LeaderLoss.Follower("aa", 3, 1251);
      loss.tick();
      assertEquals(List.of(raft.follower), raft.stood);
    }
  }

  @Test
  void aMemberTheOthersDoNotAgreeWithStandsForNothing() {
    FakeRaft raft = new FakeRaft();
    raft.answer = CompletableFuture.completedFuture(0);
    try (LeaderLoss loss = loss(raft)) {
      raft.follower = new LeaderLoss.Follower("aa", 3, 5000);
      loss.tick();
      loss.tick();
      assertEquals(List.of("aa", "aa"), raft.asked, "asked again on the next tick");
      assertEquals(List.of(), raft.stood);
      raft.answer = CompletableFuture.failedFuture(new RuntimeException("cut off"));
      loss.tick();
      assertEquals(List.of(), raft.stood);
    }
  }

  @Test
  void oneQuestionAtATimeAndNoStandOnceALeaderSpokeMeanwhile() {
    FakeRaft raft = new FakeRaft();
    CompletableFuture<Integer> pending = new CompletableFuture<>();
    raft.answer = pending;
    try (LeaderLoss loss = loss(raft)) {
      raft.follower = new LeaderLoss.Follower("aa", 3, 1500);
      loss.tick();
      loss.tick();
      assertEquals(1, raft.asked.size(), "no second question while the first is out");
      raft.follower = new LeaderLoss.Follower("bb", 4, 10); // a new leader was elected meanwhile
      pending.complete(2);
      assertEquals(List.of(), raft.stood);
    }
  }

  @Test
  void notAFollowerWithALeaderNothingToDo() {
    FakeRaft raft = new FakeRaft();
    try (LeaderLoss loss = loss(raft)) {
      raft.follower = null;
      loss.tick();
      assertEquals(List.of(), raft.asked);
    }
  }

  @Test
  void theAnswerToAnotherMember() {
    long e = ELECTION.toMillis();
    assertFalse(LeaderLoss.agrees(null, true, "aa", e), "a leader keeps its leadership");
    assertTrue(LeaderLoss.agrees(null, false, "aa", e), "no leader known here");
    assertTrue(LeaderLoss.agrees(new LeaderLoss.Follower("aa", 3, e), false, "aa", e));
    assertFalse(LeaderLoss.agrees(new LeaderLoss.Follower("aa", 3, e - 1), false, "aa", e),
        "heard from it within an election timeout");
    assertFalse(LeaderLoss.agrees(new LeaderLoss.Follower("bb", 4, 5000), false, "aa", e),
        "follows another leader");
  }
}
