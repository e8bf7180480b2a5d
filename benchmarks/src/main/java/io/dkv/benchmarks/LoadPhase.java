package io.dkv.benchmarks;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Drives one asynchronous operation at a fixed number of requests in flight for a while: a Semaphore with
 * {@code inFlight} permits is taken before each call and given back when its future completes, so there are
 * always exactly {@code inFlight} requests outstanding (a closed loop, as jetcd users issue them).
 */
final class LoadPhase {

  /** One operation: given a sequence number, start a call and return its future. */
  interface Operation extends LongFunction<CompletableFuture<?>> {}

  /**
   * What a measured run did: completed calls, failed calls (and the first failure, or null), wall time, the
   * CPU time the server process and this (client) process used meanwhile, and the latency histogram (µs).
   */
  record Result(long ops, long errors, Throwable firstError, long nanos, long serverCpuNanos,
      long clientCpuNanos, Histogram latencyMicros) {
    /** Server CPU per completed call: what the server costs, whatever else shares the machine. */
    double serverCpuMicrosPerOp() {
      return serverCpuNanos / 1000.0 / ops;
    }

    /** This process's (the jetcd client's) CPU per completed call. */
    double clientCpuMicrosPerOp() {
      return clientCpuNanos / 1000.0 / ops;
    }

    double opsPerSecond() {
      return ops * 1e9 / nanos;
    }

    double p50Millis() {
      return latencyMicros.getValueAtPercentile(50) / 1000.0;
    }

    double p99Millis() {
      return latencyMicros.getValueAtPercentile(99) / 1000.0;
    }
  }

  private final int inFlight;
  private final Operation op;
  private final AtomicLong sequence;
  private final LongSupplier serverCpuNanos;

  /**
   * {@code sequence} numbers the calls; phases that share it continue each other's sequence.
   * {@code serverCpuNanos} reads the server process's total CPU time.
   */
  LoadPhase(int inFlight, Operation op, AtomicLong sequence, LongSupplier serverCpuNanos) {
    this.inFlight = inFlight;
    this.op = op;
    this.sequence = sequence;
    this.serverCpuNanos = serverCpuNanos;
  }

  /** Runs unmeasured for {@code warmup}, then measured for {@code duration}; returns the measured part. */
  Result run(Duration warmup, Duration duration) throws InterruptedException {
    if (!warmup.isZero()) {
      drive(warmup);
    }
    return drive(duration);
  }

  private Result drive(Duration duration) throws InterruptedException {
    Semaphore permits = new Semaphore(inFlight);
    Histogram latency = new ConcurrentHistogram(TimeUnit.MINUTES.toMicros(1), 3);
    AtomicLong ops = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicReference<Throwable> firstError = new AtomicReference<>();
    long cpuStart = serverCpuNanos.getAsLong();
    long clientCpuStart = clientCpuNanos();
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    while (true) {
      permits.acquire();
      long issued = System.nanoTime();
      if (issued - end >= 0) {
        permits.release();
        break;
      }
      CompletableFuture<?> f;
      try {
        f = op.apply(sequence.getAndIncrement());
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      f.whenComplete((r, e) -> {
        if (e == null) {
          latency.recordValue(Math.min(latency.getHighestTrackableValue(),
              (System.nanoTime() - issued) / 1000));
          ops.incrementAndGet();
        } else {
          errors.incrementAndGet();
          firstError.compareAndSet(null, e);
        }
        permits.release();
      });
    }
    permits.acquire(inFlight); // let every call in flight finish, and count it
    long nanos = System.nanoTime() - start;
    return new Result(ops.get(), errors.get(), firstError.get(), nanos, serverCpuNanos.getAsLong() - cpuStart,
        clientCpuNanos() - clientCpuStart, latency);
  }

  private static long clientCpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }
}
