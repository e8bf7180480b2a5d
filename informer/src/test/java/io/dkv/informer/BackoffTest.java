package io.dkv.informer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void theCeilingDoublesUpToTheMaximumAndResets() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000));
    long[] expected = {100, 200, 400, 800, 1000, 1000};
    for (long ms : expected) {
      assertEquals(Duration.ofMillis(ms).toNanos(), b.ceiling());
      Duration d = b.next();
      assertTrue(!d.isNegative() && d.toNanos() <= Duration.ofMillis(ms).toNanos(), d + " within " + ms + " ms");
    }
    b.reset();
    assertEquals(Duration.ofMillis(100).toNanos(), b.ceiling());
  }

  @Test
  void delaysAreSpreadOutSoClientsThatFailedTogetherDoNotReturnTogether() {
    Set<Long> delays = new HashSet<>();
    long max = 0;
    for (int i = 0; i < 1000; i++) {
      Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
      long d = b.next().toMillis();
      delays.add(d);
      max = Math.max(max, d);
    }
    assertTrue(delays.size() > 500, "1,000 clients got only " + delays.size() + " distinct delays");
    assertTrue(max <= 1000);
  }

  @Test
  void onlyAWatchThatLivedAtLeastTheCurrentCeilingResetsIt() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000));
    b.next();
    b.next();
    b.lived(Duration.ofMillis(399).toNanos());
    assertEquals(Duration.ofMillis(400).toNanos(), b.ceiling(), "a watch dropped at once does not reset it");
    b.lived(Duration.ofMillis(400).toNanos());
    assertEquals(Duration.ofMillis(100).toNanos(), b.ceiling());
  }

  @Test
  void manyFailuresNeverOverflow() {
    Backoff b = new Backoff(Duration.ofMillis(1), Duration.ofHours(1));
    for (int i = 0; i < 200; i++) {
      assertTrue(!b.next().isNegative());
    }
    assertEquals(Duration.ofHours(1).toNanos(), b.ceiling());
  }
}
