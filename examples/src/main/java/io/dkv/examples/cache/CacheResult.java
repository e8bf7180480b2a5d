package io.dkv.examples.cache;

/**
 * How one cache did under the writes.
 *
 * @param cache             "watch" or "ttl"
 * @param reads             reads served by the cache
 * @param staleReads        reads that returned a value older than an acknowledged write
 * @param staleP99Millis    99th percentile staleness of the stale reads (time since the newer write's ack)
 * @param staleMaxMillis    worst staleness seen
 * @param serverReads       range reads the cache sent to the server
 * @param staleAtEnd        keys whose cached value was stale after the last write (for the watch-fed cache:
 *                          once its watch had delivered the last write's revision)
 */
public record CacheResult(String cache, long reads, long staleReads, double staleP99Millis, double staleMaxMillis,
    long serverReads, int staleAtEnd) {

  /** The share of reads that were stale, in percent. */
  public double stalePercent() {
    return reads == 0 ? 0 : 100.0 * staleReads / reads;
  }
}
