package io.dkv.server;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.dkv.server.apply.Proposer;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.CompactionRequest;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
      Executors.newSingleThreadScheduledExecutor(
          new ThreadFactoryBuilder().setNameFormat("dkv-auto-compaction").setDaemon(true).build());
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
    if (rev <= 0 || rev <= store.compactRevision() || !proposer.isLeader()) {
      return; // etcd's compactor runs on the leader only: the others' samples wait until they lead
    }
    proposer.propose(CompactionRequest.newBuilder().setRevision(rev).build()).whenComplete((r, e) -> {
      if (e == null) {
        log.info("auto-compacted at revision {}", rev);
      } else {
        log.debug("auto-compaction at revision {} skipped: {}", rev, e.getMessage());
      }
    });
  }

  /** One "number unit" term of a Go duration; Go allows fractions ("1.5h") and ns, us, µs, ms, s, m, h. */
  private static final Pattern GO_DURATION_TERM = Pattern.compile("(\\d+\\.?\\d*|\\.\\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)");

  /**
   * Parses etcd's retention for periodic mode: a number of hours ("1") or a Go duration ("90m", "1h30m",
   * "1.5h"). A zero period is not one (etcd takes zero as "no auto compaction", which callers decide).
   */
  static Duration parsePeriod(String retention) {
    try {
      Duration d = retention.matches("\\d+") ? Duration.ofHours(Long.parseLong(retention)) : goDuration(retention);
      if (d != null && !d.isZero()) {
        return d;
      }
    } catch (ArithmeticException tooLong) {
      // falls through
    }
    throw new IllegalArgumentException("invalid auto-compaction retention: " + retention);
  }

  /**
   * Parses a flag that is a Go duration, as Go's time.ParseDuration: "0", or numbers with units ("90s", "1h30m").
   *
   * @throws IllegalArgumentException naming {@code flag} if it is not one
   */
  static Duration parseGoDuration(String flag, String value) {
    Duration d = "0".equals(value) ? Duration.ZERO : goDuration(value);
    if (d == null) {
      throw new IllegalArgumentException("invalid value \"" + value + "\" for flag " + flag + ": time: invalid "
          + "duration \"" + value + "\"");
    }
    return d;
  }

  private static Duration goDuration(String s) {
    Matcher m = GO_DURATION_TERM.matcher(s);
    BigDecimal nanos = BigDecimal.ZERO;
    int end = 0;
    while (m.find() && m.start() == end) {
      long unit = switch (m.group(2)) {
        case "h" -> 3_600_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "s" -> 1_000_000_000L;
        case "ms" -> 1_000_000L;
        case "ns" -> 1L;
        default -> 1_000L; // us, µs
      };
      nanos = nanos.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)));
      end = m.end();
    }
    if (end == 0 || end != s.length()) {
      return null;
    }
    return Duration.ofNanos(nanos.setScale(0, RoundingMode.DOWN).longValueExact());
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
