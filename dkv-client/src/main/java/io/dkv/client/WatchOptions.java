package io.dkv.client;

import java.time.Duration;

/**
 * How a watch starts and recovers.
 *
 * <pre>{@code
 * WatchOptions o = WatchOptions.builder().initialSnapshot(true).resnapshotOnCompaction(true).build();
 * }</pre>
 *
 * @param initialSnapshot        read the current value(s) at a revision R first, then watch from R + 1
 * @param resnapshotOnCompaction on compaction, read a fresh snapshot and report the difference
 * @param startRevision          with no snapshot: watch from this revision (0: from now)
 * @param minBackoff             first delay before resuming after an error
 * @param maxBackoff             largest delay between attempts (each delay has random jitter)
 */
public record WatchOptions(boolean initialSnapshot, boolean resnapshotOnCompaction, long startRevision,
    Duration minBackoff, Duration maxBackoff) {

  /** No snapshot, watch from now, backoff from 100 ms up to 5 s. */
  public static WatchOptions defaults() {
    return builder().build();
  }

  /** A snapshot first, then the changes after it; re-snapshot on compaction. */
  public static WatchOptions withSnapshot() {
    return builder().initialSnapshot(true).resnapshotOnCompaction(true).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder of {@link WatchOptions}.
   *
   * <pre>{@code
   * WatchOptions.builder().startRevision(lastSeen + 1).backoff(Duration.ofMillis(50), Duration.ofSeconds(2)).build();
   * }</pre>
   */
  public static final class Builder {
    private boolean initialSnapshot;
    private boolean resnapshotOnCompaction;
    private long startRevision;
    private Duration minBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(5);

    private Builder() {
    }

    public Builder initialSnapshot(boolean on) {
      this.initialSnapshot = on;
      return this;
    }

    public Builder resnapshotOnCompaction(boolean on) {
      this.resnapshotOnCompaction = on;
      return this;
    }

    public Builder startRevision(long revision) {
      if (revision < 0) {
        throw new IllegalArgumentException("negative revision " + revision);
      }
      this.startRevision = revision;
      return this;
    }

    public Builder backoff(Duration min, Duration max) {
      if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
        throw new IllegalArgumentException("backoff must be 0 < min <= max");
      }
      this.minBackoff = min;
      this.maxBackoff = max;
      return this;
    }

    public WatchOptions build() {
      if (initialSnapshot && startRevision != 0) {
        throw new IllegalArgumentException("a start revision and an initial snapshot exclude each other");
      }
      return new WatchOptions(initialSnapshot, resnapshotOnCompaction, startRevision, minBackoff, maxBackoff);
    }
  }
}
