package io.dkv.examples.jobworker;

import java.time.Duration;

/**
 * What one worker design did with the workload.
 *
 * @param mode           "polling" or "watch"
 * @param jobs           jobs submitted
 * @param completed      job runs that finished
 * @param ranTwice       jobs that ran more than once (must be 0)
 * @param neverRan       jobs that did not run (0 when the run completed)
 * @param doneKeys       {@code done/} keys in the store afterwards (one per claimed job)
 * @param reads          range reads the workers sent to the server (counted by the workers)
 * @param serverReads    range calls the server counted meanwhile ({@code grpc_server_started_total}), -1 if
 *                       its metrics were not available
 * @param elapsed        from the first submission until every job ran (or the run gave up)
 * @param lostClaims     claim transactions that lost the race (another worker had the job)
 * @param pickupP50Millis median pick-up latency: from submission to a won claim
 * @param pickupP99Millis 99th percentile pick-up latency
 */
public record ModeResult(String mode, int jobs, int completed, int ranTwice, int neverRan, long doneKeys, long reads,
    long serverReads, Duration elapsed, long lostClaims, double pickupP50Millis, double pickupP99Millis) {

  /** Server reads per second over the run (the server's count if known, else the workers'). */
  public double readsPerSecond() {
    double seconds = elapsed.toNanos() / 1e9;
    return seconds == 0 ? 0 : (serverReads >= 0 ? serverReads : reads) / seconds;
  }
}
