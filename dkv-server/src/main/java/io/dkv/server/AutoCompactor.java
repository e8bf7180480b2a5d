package io.dkv.server;

import io.dkv.server.apply.Proposer;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.CompactionRequest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Etcd's automatic compaction. In {@code revision} mode it keeps the last {@code retention} revisions,
 * checking every five minutes; in {@code periodic} mode it keeps the history of the last {@code retention}
 * period, sampling the revision every tenth of the period (at most every six minutes). Compactions go
 * through the proposer like any write.
 */
final class AutoCompactor implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AutoCompactor.class);

  private record Sample(long atNanos, long rev) {}

  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dkv-auto-compaction");
        t.setDaemon(true);
        return t;
      });
  private final MvccStore store;
  private final Proposer proposer;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();

  private AutoCompactor(MvccStore store, Proposer proposer) {
    this.store = store;
    this.proposer = proposer;
  }

  /** Keeps the last {@code retention} revisions, checking every {@code interval}. */
  static AutoCompactor byRevision(MvccStore store, Proposer proposer, long retention, Duration interval) {
    AutoCompactor c = new AutoCompactor(store, proposer);
    long ms = interval.toMillis();
    c.timer.scheduleWithFixedDelay(() -> c.compactTo(store.committedRevision() - retention), ms, ms,
        TimeUnit.MILLISECONDS);
    return c;
  }

  /** Keeps the history of the last {@code period}. */
  static AutoCompactor periodic(MvccStore store, Proposer proposer, Duration period) {
    AutoCompactor c = new AutoCompactor(store, proposer);
    long sampleMs = Math.max(1, Math.min(period.toMillis(), Duration.ofHours(1).toMillis()) / 10);
    c.timer.scheduleWithFixedDelay(() -> c.sampleAndCompact(period.toNanos()), 0, sampleMs, TimeUnit.MILLISECONDS);
    return c;
  }

  private void sampleAndCompact(long periodNanos) {
    long now = System.nanoTime();
    samples.addLast(new Sample(now, store.committedRevision()));
    Sample due = null;
    while (!samples.isEmpty() && now - samples.peekFirst().atNanos() >= periodNanos) {
      due = samples.pollFirst();
    }
    if (due != null) {
      compactTo(due.rev());
    }
  }

  private void compactTo(long rev) {
    if (rev <= 0 || rev <= store.compactRevision()) {
      return;
    }
    proposer.propose(CompactionRequest.newBuilder().setRevision(rev).build()).whenComplete((r, e) -> {
      if (e == null) {
        log.info("auto-compacted at revision {}", rev);
      } else {
        log.debug("auto-compaction at revision {} skipped: {}", rev, e.getMessage());
      }
    });
  }

  /** Parses etcd's retention: for periodic mode a Go duration ("90m", "1h30m") or a number of hours. */
  static Duration parsePeriod(String retention) {
    if (retention.matches("\\d+")) {
      return Duration.ofHours(Long.parseLong(retention));
    }
    var m = java.util.regex.Pattern.compile("(\\d+)(h|ms|m|s)").matcher(retention);
    Duration d = Duration.ZERO;
    int end = 0;
    while (m.find() && m.start() == end) {
      long n = Long.parseLong(m.group(1));
      d = d.plus(switch (m.group(2)) {
        case "h" -> Duration.ofHours(n);
        case "m" -> Duration.ofMinutes(n);
        case "s" -> Duration.ofSeconds(n);
        default -> Duration.ofMillis(n);
      });
      end = m.end();
    }
    if (end != retention.length() || d.isZero()) {
      throw new IllegalArgumentException("invalid auto-compaction retention: " + retention);
    }
    return d;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
