package io.dkv.benchmarks;

import io.dkv.controller.RateLimitingQueue;
import io.dkv.controller.WorkQueue;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * JMH: the work queue's add / get / done cycle, one thread, and with producers and workers on their own threads.
 * Run: {@code java -cp ... org.openjdk.jmh.Main WorkQueueBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WorkQueueBenchmark {

  /** One queue per trial; {@code keys} distinct items so adds rarely collapse. */
  @State(Scope.Benchmark)
  public static class Queue {
    @Param({"1000"})
    int keys;

    RateLimitingQueue<Integer> queue;

    @Setup(Level.Trial)
    public void setUp() {
      queue = WorkQueue.<Integer>builder().name("bench").meterRegistry(new SimpleMeterRegistry()).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      queue.shutDown();
    }
  }

  /** A thread's next item. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    @Setup(Level.Trial)
    public void setUp(ThreadParams threads) {
      next = threads.getThreadIndex() * 7919;
    }
  }

  /** add, get and done of one item on one thread: the cost of the cycle without contention. */
  @Benchmark
  public Integer addGetDone(Queue q, Cursor c) throws InterruptedException {
    q.queue.add(c.next++ % q.keys);
    Integer item = q.queue.get();
    q.queue.done(item);
    return item;
  }

  /** Two producers add while two workers get and mark done: items per second through the queue. */
  @Benchmark
  @Group("producersAndWorkers")
  @GroupThreads(2)
  public void produce(Queue q, Cursor c) {
    q.queue.add(c.next++ % q.keys);
  }

  @Benchmark
  @Group("producersAndWorkers")
  @GroupThreads(2)
  public Integer work(Queue q) throws InterruptedException {
    Integer item = q.queue.get();
    q.queue.done(item);
    return item;
  }
}
