package io.dkv.examples.cache;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * How stale one cache's reads were: a read is stale if it returned a revision older than a write that had
 * already been acknowledged; its staleness is the time since the first such write was acknowledged.
 */
final class Staleness {

  private final Histogram staleMicros = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
  private long reads;

  synchronized void fresh() {
    reads++;
  }

  synchronized void stale(long nanos) {
    reads++;
    staleMicros.recordValue(Math.min(TimeUnit.NANOSECONDS.toMicros(nanos), staleMicros.getHighestTrackableValue()));
  }

  synchronized CacheResult result(String name, long serverReads, int staleAtEnd) {
    long stale = staleMicros.getTotalCount();
    return new CacheResult(name, reads, stale, stale == 0 ? 0 : staleMicros.getValueAtPercentile(99) / 1000.0,
        stale == 0 ? 0 : staleMicros.getMaxValue() / 1000.0, serverReads, staleAtEnd);
  }
}
