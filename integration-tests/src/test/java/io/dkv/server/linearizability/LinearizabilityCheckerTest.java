package io.dkv.server.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.linearizability.LinearizabilityChecker.Outcome;
import io.dkv.server.linearizability.LinearizabilityChecker.Verdict;
import io.dkv.server.linearizability.Op.Output;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The checker on hand-written histories that are and are not linearizable, and on generated ones. */
class LinearizabilityCheckerTest {

  private static final long NONE = HistoryBuilder.NONE;

  private static Verdict only(List<Op> history) {
    List<Verdict> verdicts = new LinearizabilityChecker(1_000_000).check(history);
    assertEquals(1, verdicts.size(), verdicts::toString);
    return verdicts.get(0);
  }

  private static void assertLinearizable(HistoryBuilder h) {
    Verdict v = only(h.build());
    assertEquals(Outcome.LINEARIZABLE, v.outcome(), v::toString);
  }

  private static Verdict assertViolation(HistoryBuilder h) {
    Verdict v = only(h.build());
    assertEquals(Outcome.VIOLATION, v.outcome(), v::toString);
    assertTrue(v.explanation().contains("key k"), v::toString);
    return v;
  }

  @Nested
  class Linearizable {
    @Test
    void sequentialCallsWithTheirRevisions() {
      assertLinearizable(new HistoryBuilder()
          .getAbsent(0, 0, 1)
          .put(0, 2, 3, "v1", 2)
          .get(1, 4, 5, "v1", 2, 1)
          .put(1, 6, 7, "v2", 3)
          .get(0, 8, 9, "v2", 3, 2)
          .delete(0, 10, 11, true, 4)
          .getAbsent(1, 12, 13)
          .delete(1, 14, 15, false, 4)
          .put(0, 16, 17, "v3", 5)
          .get(0, 18, 19, "v3", 5, 1)); // version starts again after a delete
    }

    @Test
    void concurrentCallsMayTakeEffectInEitherOrder() {
      assertLinearizable(new HistoryBuilder()
          .put(0, 0, 10, "v1", 3)       // v1 took effect after v2 although invoked first
          .put(1, 2, 8, "v2", 2)
          .getAbsent(2, 1, 3)           // concurrent with both: may come before them
          .get(3, 5, 9, "v2", 2, 1)     // between the two
          .get(2, 11, 12, "v1", 3, 2));
    }

    @Test
    void readsDuringAWriteSeeOldThenNew() {
      assertLinearizable(new HistoryBuilder()
          .put(0, 0, 1, "v1", 2)
          .put(0, 10, 100, "v2", 3)
          .get(1, 20, 30, "v1", 2, 1)
          .get(1, 40, 50, "v2", 3, 2)
          .get(2, 45, 60, "v2", 3, 2));
    }

    @Test
    void aTimedOutWriteThatTookEffectLater() {
      assertLinearizable(new HistoryBuilder()
          .putUnknown(0, 0, "v1")
          .getAbsent(1, 5, 6)           // not yet applied
          .get(1, 20, 30, "v1", 7, 1)   // applied meanwhile, at a revision nobody was told
          .casRev(2, 31, 32, 7, "v2", Output.wrote(8))
          .get(1, 40, 41, "v2", 8, 2));
    }

    @Test
    void aTimedOutWriteThatNeverTookEffect() {
      assertLinearizable(new HistoryBuilder()
          .put(1, 0, 1, "v0", 2)
          .putUnknown(0, 2, "v1")
          .deleteUnknown(2, 3)
          .get(1, 20, 30, "v0", 2, 1)
          .get(1, 40, 41, "v0", 2, 1));
    }

    @Test
    void aWriteLearntFromTheWatchHistoryWithNoResponse() {
      assertLinearizable(new HistoryBuilder()
          .add(0, Op.Kind.PUT, "v1", null, 0, 0, NONE, Output.wrote(4))
          .getAbsent(1, 1, 2)
          .get(1, 50, 60, "v1", 4, 1));
    }

    @Test
    void casSucceedsOnTheCurrentValueAndFailsOnAnother() {
      assertLinearizable(new HistoryBuilder()
          .put(0, 0, 1, "v1", 2)
          .casValue(1, 2, 3, "v1", "v2", Output.wrote(3))
          .casValue(2, 4, 5, "v1", "v3", Output.casFailed("v2", 3, 2))
          .casRev(0, 6, 7, 3, "v4", Output.wrote(4))
          .casRev(1, 8, 9, 0, "v5", Output.casFailed("v4", 4, 3))
          .get(2, 10, 11, "v4", 4, 3));
    }

    @Test
    void keysAreCheckedApart() {
      List<Verdict> verdicts = new LinearizabilityChecker(10_000).check(new HistoryBuilder()
          .on("a").put(0, 0, 10, "a1", 2)
          .on("b").put(1, 1, 2, "b1", 3)
          .on("a").get(1, 3, 4, "a1", 2, 1)
          .on("b").get(0, 11, 12, "b1", 3, 1)
          .build());
      assertEquals(List.of("a", "b"), verdicts.stream().map(Verdict::key).toList());
      verdicts.forEach(v -> assertEquals(Outcome.LINEARIZABLE, v.outcome(), v::toString));
    }
  }

  @Nested
  class NotLinearizable {
    @Test
    void aStaleReadAfterACompletedWrite() {
      Verdict v = assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 2)
          .put(0, 20, 30, "v2", 3)
          .get(1, 40, 50, "v1", 2, 1));
      assertTrue(v.explanation().contains("get -> v1 (mod_rev 2, version 1)"), v::toString);
      assertTrue(v.explanation().contains("v2 (mod_rev 3, version 2)"), v::toString);
    }

    @Test
    void aLostAcknowledgedWrite() {
      assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 2)
          .getAbsent(1, 20, 30));
    }

    @Test
    void aCasThatSucceededOnAStaleValue() {
      assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 2)
          .put(1, 20, 30, "v2", 3)
          .casValue(2, 40, 50, "v1", "v3", Output.wrote(4)));
    }

    @Test
    void aCasOnAStaleRevision() {
      assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 2)
          .put(1, 20, 30, "v2", 3)
          .casRev(2, 40, 50, 2, "v3", Output.wrote(4)));
    }

    @Test
    void aReadOfAValueNeverWritten() {
      assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 2)
          .get(1, 5, 15, "ghost", 2, 1));
    }

    @Test
    void theRightValueWithAnOlderRevisionOrVersion() {
      assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 5)
          .get(1, 20, 30, "v1", 4, 1));
      assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 5)
          .get(1, 20, 30, "v1", 5, 2));
    }

    @Test
    void revisionsGoingBackwards() {
      assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 5)
          .put(0, 20, 30, "v2", 4));
    }

    @Test
    void newThenOldDuringOneWrite() {
      assertViolation(new HistoryBuilder()
          .put(0, 0, 1, "v1", 2)
          .put(0, 10, 100, "v2", 3)
          .get(1, 20, 30, "v2", 3, 2)
          .get(2, 40, 50, "v1", 2, 1));
    }

    @Test
    void aTimedOutWriteSeenAndThenUnseen() {
      assertViolation(new HistoryBuilder()
          .putUnknown(0, 0, "v1")
          .get(1, 20, 30, "v1", 7, 1)
          .getAbsent(1, 40, 50));
    }

    @Test
    void aDeleteThatDidNotDelete() {
      assertViolation(new HistoryBuilder()
          .put(0, 0, 10, "v1", 2)
          .delete(0, 20, 30, true, 3)
          .get(1, 40, 50, "v1", 2, 1));
    }
  }

  @Test
  void aPathologicalHistoryIsUndecidedNotHung() {
    HistoryBuilder h = new HistoryBuilder();
    for (int i = 0; i < 40; i++) {
      h.putUnknown(i, i, "v" + i);
    }
    h.get(99, 100, 101, "never", 50, 1);
    Verdict v = new LinearizabilityChecker(5_000).check(h.build()).get(0);
    assertEquals(Outcome.UNDECIDED, v.outcome(), v::toString);
    assertTrue(v.explanation().contains("gave up after 5000 steps"), v::toString);
  }

  @Test
  void generatedHistoriesOfTheWorkloadsSize() {
    for (long seed = 1; seed <= 3; seed++) {
      List<Op> history = new SimulatedHistory(seed, 4, 6).generate(6000, 0.03);
      long t = System.nanoTime();
      List<Verdict> verdicts = new LinearizabilityChecker(5_000_000).check(history);
      long ms = (System.nanoTime() - t) / 1_000_000;
      verdicts.forEach(v -> assertEquals(Outcome.LINEARIZABLE, v.outcome(), v::toString));
      System.out.printf("checker: %d ops on 4 keys, seed %d: %d ms, %d steps%n", history.size(), seed, ms,
          verdicts.stream().mapToLong(Verdict::steps).sum());
    }
  }

  @Test
  void aGeneratedHistoryWithOneStaleReadIsCaught() {
    List<Op> history = new SimulatedHistory(7, 4, 6).withStaleRead(0.5).generate(3000, 0.03);
    List<Verdict> verdicts = new LinearizabilityChecker(5_000_000).check(history);
    assertTrue(verdicts.stream().anyMatch(v -> v.outcome() == Outcome.VIOLATION), verdicts::toString);
    verdicts.forEach(v -> assertTrue(v.outcome() != Outcome.UNDECIDED, v::toString));
  }
}
