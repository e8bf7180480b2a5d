package io.dkv.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

  private static Duration ms(long ms) {
    return Duration.ofMillis(ms);
  }

  @Test
  void exponentialDoublesPerItemUpToTheCapAndStartsOverWhenForgotten() {
    RateLimiter<String> l = RateLimiter.exponential(ms(5), Duration.ofSeconds(1000));
    List<Duration> seq = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      seq.add(l.when("a"));
    }
    assertEquals(List.of(ms(5), ms(10), ms(20), ms(40), ms(80)), seq);
    assertEquals(ms(5), l.when("b"), "items back off independently");
    assertEquals(5, l.numRequeues("a"));
    for (int i = 0; i < 100; i++) {
      l.when("a");
    }
    assertEquals(Duration.ofSeconds(1000), l.when("a"), "capped, without overflow");
    l.forget("a");
    assertEquals(0, l.numRequeues("a"));
    assertEquals(ms(5), l.when("a"));
  }

  @Test
  void exponentialReachesTheCapExactly() {
    RateLimiter<String> l = RateLimiter.exponential(ms(5), Duration.ofSeconds(1000));
    Duration last = Duration.ZERO;
    int steps = 0;
    while (last.compareTo(Duration.ofSeconds(1000)) < 0) {
      Duration next = l.when("x");
      assertEquals(true, next.compareTo(last) > 0, "grows until the cap");
      last = next;
      steps++;
    }
    // 5 ms * 2^17 = 655 s, 5 ms * 2^18 = 1310 s > 1000 s: the 19th delay is the cap
    assertEquals(19, steps);
  }

  @Test
  void tokenBucketAllowsTheBurstThenSpacesRetriesAtTheRate() {
    AtomicLong now = new AtomicLong(1_000_000_000L);
    RateLimiter<String> l = new TokenBucketRateLimiter<>(10, 100, now::get);
    for (int i = 0; i < 100; i++) {
      assertEquals(Duration.ZERO, l.when("i" + i), "retry " + i + " is within the burst");
    }
    assertEquals(ms(100), l.when("x"));
    assertEquals(ms(200), l.when("y"));
    assertEquals(ms(300), l.when("x"), "the bucket is shared by all items");
    now.addAndGet(Duration.ofSeconds(1).toNanos()); // 10 tokens back, 3 were owed
    for (int i = 0; i < 7; i++) {
      assertEquals(Duration.ZERO, l.when("z"));
    }
    assertEquals(ms(100), l.when("z"));
    now.addAndGet(Duration.ofHours(1).toNanos());
    for (int i = 0; i < 100; i++) {
      assertEquals(Duration.ZERO, l.when("w"), "refills only up to the burst");
    }
    assertEquals(ms(100), l.when("w"));
    assertEquals(0, l.numRequeues("w"));
  }

  @Test
  void maxOfTakesTheLongestDelayAndForgetsEverywhere() {
    AtomicLong now = new AtomicLong();
    RateLimiter<String> l = RateLimiter.maxOf(RateLimiter.exponential(ms(5), Duration.ofSeconds(1000)),
        new TokenBucketRateLimiter<>(10, 3, now::get));
    assertEquals(ms(5), l.when("a"));
    assertEquals(ms(10), l.when("a"));
    assertEquals(ms(20), l.when("a"));
    assertEquals(ms(100), l.when("b"), "the bucket is empty: its delay wins over b's 5 ms");
    assertEquals(3, l.numRequeues("a"));
    l.forget("a");
    assertEquals(0, l.numRequeues("a"));
    now.addAndGet(Duration.ofSeconds(10).toNanos());
    assertEquals(ms(5), l.when("a"));
  }

  @Test
  void fastSlowSwitchesAfterTheFastAttempts() {
    RateLimiter<String> l = RateLimiter.fastSlow(ms(1), Duration.ofSeconds(10), 3);
    assertEquals(List.of(ms(1), ms(1), ms(1), Duration.ofSeconds(10), Duration.ofSeconds(10)),
        List.of(l.when("a"), l.when("a"), l.when("a"), l.when("a"), l.when("a")));
    assertEquals(ms(1), l.when("b"));
    assertEquals(5, l.numRequeues("a"));
    l.forget("a");
    assertEquals(ms(1), l.when("a"));
  }

  @Test
  void defaultLimiterStartsAtFiveMilliseconds() {
    RateLimiter<String> l = RateLimiter.defaultControllerRateLimiter();
    assertEquals(ms(5), l.when("a"));
    assertEquals(ms(10), l.when("a"));
  }

  @Test
  void badOptionsAreRejectedWithAClearMessage() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RateLimiter.exponential(ms(10), ms(5)));
    assertEquals("max delay PT0.005S is below the base delay PT0.01S", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> RateLimiter.exponential(Duration.ZERO, ms(5)));
    assertThrows(IllegalArgumentException.class, () -> RateLimiter.tokenBucket(0, 10));
    assertThrows(IllegalArgumentException.class, () -> RateLimiter.tokenBucket(10, 0));
    assertThrows(IllegalArgumentException.class, () -> RateLimiter.fastSlow(ms(1), ms(2), -1));
    assertThrows(IllegalArgumentException.class, RateLimiter::maxOf);
  }
}
