package io.dkv.benchmarks;

import io.dkv.controller.RateLimitingQueue;
import io.dkv.controller.WorkQueue;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * JMH: the work queue's add / get / done cycle, on one thread and on 4 threads sharing one queue.
 * Run: {@code java -cp ... org.openjdk.jmh.Main WorkQueueBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WorkQueueBenchmark {

  /** One queue per trial. */
  @State(Scope.Benchmark)
  public static class Queue {
    RateLimitingQueue<Long> queue;

    @Setup(Level.Trial)
    public void setUp() {
      queue = WorkQueue.<Long>builder().name("bench").meterRegistry(new SimpleMeterRegistry()).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      queue.shutDown();
    }
  }

  /** A thread's next item: every item is new (thread index in the high bits), so no add ever collapses. */
  @State(Scope.Thread)
  public static class Cursor {
    long next;

    @Setup(Level.Trial)
    public void setUp(ThreadParams threads) {
      next = (long) threads.getThreadIndex() << 40;
    }
  }

  /** add, get and done of one item on one thread: the cost of the cycle without contention. */
  @Benchmark
  public Long addGetDone(Queue q, Cursor c) throws InterruptedException {
    return cycle(q, c);
  }

  /**
   * The same cycle on 4 threads sharing the queue (each may get another's item). Every thread adds before it
   * gets and no add collapses, so a get never waits for an add that will not come.
   */
  @Benchmark
  @Threads(4)
  public Long addGetDoneContended(Queue q, Cursor c) throws InterruptedException {
    return cycle(q, c);
  }

  private static Long cycle(Queue q, Cursor c) throws InterruptedException {
    q.queue.add(c.next++);
    Long item = q.queue.get();
    q.queue.done(item);
    return item;
  }
}
