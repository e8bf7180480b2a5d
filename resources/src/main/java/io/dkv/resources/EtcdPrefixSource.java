package io.dkv.resources;

import io.dkv.client.DkvClient;
import io.dkv.client.DkvException;
import io.dkv.informer.HistoryGoneException;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Raw list pages and watches of the keys under one prefix (a small etcd source written for the resources
 * module; the informer module's own etcd source was not yet available to build on).
 */
final class EtcdPrefixSource {

  /** One page of raw key-values read at {@code revision}; {@code next} is null on the last page. */
  record RawPage(List<KeyValue> kvs, long revision, String next) {
  }

  /** An open raw watch. */
  interface RawWatch {
    /** Stops the watch; no sink call starts after it returns. Idempotent. */
    void close();

    /** Asks etcd for a progress notification (a bookmark); false if the watch is closed. */
    boolean requestProgress();
  }

  /** Receives one watch's responses and its end. */
  interface RawSink {
    void response(WatchResponse response);

    void closed(Throwable cause);
  }

  private final DkvClient client;
  private final String prefix;
  private final Duration timeout;

  EtcdPrefixSource(DkvClient client, String prefix, Duration timeout) {
    if (!prefix.endsWith("/")) {
      throw new IllegalArgumentException("prefix must end with '/': " + prefix);
    }
    this.client = client;
    this.prefix = prefix;
    this.timeout = timeout;
  }

  RawPage list(long revision, String continueFrom, int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive, got " + limit);
    }
    String start = continueFrom == null ? prefix : continueFrom;
    if (!start.startsWith(prefix)) {
      throw new IllegalArgumentException("continueFrom \"" + continueFrom + "\" is not under " + prefix);
    }
    // no sort option: a range comes in key order anyway, and a sort makes etcd read the whole range for every page
    GetOption.Builder o = GetOption.builder().withRange(Store.bytes(rangeEnd())).withLimit(limit);
    if (revision > 0) {
      o.withRevision(revision);
    }
    GetResponse r;
    try {
      r = client.jetcd().getKVClient().get(Store.bytes(start), o.build())
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DkvException("interrupted", e);
    } catch (TimeoutException e) {
      throw new DkvException("no answer within " + timeout, e);
    } catch (ExecutionException e) {
      if (isCompaction(e.getCause())) {
        throw new HistoryGoneException("revision " + revision + " of " + prefix + " is compacted", 0);
      }
      throw new DkvException("list of " + prefix + " failed: " + e.getCause().getMessage(), e.getCause());
    }
    List<KeyValue> kvs = r.getKvs();
    String next = r.isMore() && !kvs.isEmpty()
        ? kvs.get(kvs.size() - 1).getKey().toString(StandardCharsets.UTF_8) + "\0" : null;
    return new RawPage(kvs, revision > 0 ? revision : r.getHeader().getRevision(), next);
  }

  /**
   * Watches every change after {@code revision} with previous values and progress notifications. The sink is
   * called one call at a time, never on jetcd's threads, and never after {@link RawWatch#close()} returns
   * (which may be called from the sink).
   */
  RawWatch watch(long revision, RawSink sink) {
    WatchOption o = WatchOption.builder().isPrefix(true).withPrevKV(true).withProgressNotify(true)
        .withRevision(revision + 1).build();
    SerialDelivery delivery = new SerialDelivery();
    boolean[] ended = {false}; // touched by delivery callbacks only, one at a time
    Consumer<Throwable> end = cause -> delivery.submit(() -> {
      if (!ended[0]) {
        ended[0] = true;
        sink.closed(isCompaction(cause)
            ? new HistoryGoneException("watch of " + prefix + " from " + (revision + 1) + ": history compacted",
                compactRevision(cause))
            : cause);
      }
    });
    Watch.Watcher watcher = client.jetcd().getWatchClient().watch(Store.bytes(prefix), o, Watch.listener(
        response -> delivery.submit(() -> {
          if (!ended[0]) {
            sink.response(response);
          }
        }),
        end,
        () -> end.accept(null)));
    return new RawWatch() {
      @Override
      public void close() {
        delivery.close();
        watcher.close();
      }

      @Override
      public boolean requestProgress() {
        if (delivery.isClosed()) {
          return false;
        }
        watcher.requestProgress();
        return true;
      }
    };
  }

  private String rangeEnd() {
    return prefix.substring(0, prefix.length() - 1) + (char) (prefix.charAt(prefix.length() - 1) + 1);
  }


  private static boolean isCompaction(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CompactedException) {
        return true;
      }
      if (c.getMessage() != null && c.getMessage().toLowerCase(Locale.ROOT).contains("compacted")) {
        return true;
      }
    }
    return false;
  }

  private static long compactRevision(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CompactedException ce) {
        return ce.getCompactedRevision();
      }
    }
    return 0;
  }
}
