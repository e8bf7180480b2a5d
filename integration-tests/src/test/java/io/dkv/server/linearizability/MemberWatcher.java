package io.dkv.server.linearizability;

import com.google.protobuf.ByteString;
import io.dkv.server.testing.Channels;
import io.dkv.server.testing.WatchHistoryChecker.Segment;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A watch of the workload's prefix on one member, from a start revision, with prev_kv, recording every response;
 * whenever the stream ends (the member killed, restarted, replaced) it watches again from the last revision received
 * + 1, as a new {@link Segment}, so the segments can be checked for etcd's six guarantees, resumption included.
 */
final class MemberWatcher implements AutoCloseable {
  private final String name;
  private final ManagedChannel channel;
  private final ScheduledExecutorService scheduler;
  private final List<Segment> segments = new ArrayList<>();
  private volatile long lastRevision;
  private volatile boolean closed;
  private StreamObserver<WatchRequest> requests;

  MemberWatcher(String name, String endpoint, long fromRevision, ScheduledExecutorService scheduler) {
    this.name = name;
    this.channel = Channels.open(URI.create(endpoint).getPort());
    this.scheduler = scheduler;
    this.lastRevision = fromRevision - 1;
    open();
  }

  String name() {
    return name;
  }

  /** The revision of the last event received. */
  long lastRevision() {
    return lastRevision;
  }

  /** The watch calls made so far, in order (copies, safe to read while the watch runs). */
  synchronized List<Segment> segments() {
    List<Segment> copy = new ArrayList<>();
    for (Segment s : segments) {
      Segment c = new Segment(s.startRev);
      synchronized (s) {
        c.responses.addAll(s.responses);
      }
      copy.add(c);
    }
    return copy;
  }

  /**
   * What this watcher has seen, for a failure message: its watch calls and how the last one went (its last
   * response's header revision, whether it was created, cancelled and why).
   */
  synchronized String describe() {
    Segment last = segments.get(segments.size() - 1);
    synchronized (last) {
      WatchResponse r = last.responses.isEmpty() ? null : last.responses.get(last.responses.size() - 1);
      return name + ": " + segments.size() + " watch calls, the last from revision " + last.startRev + " with "
          + last.responses.size() + " responses" + (r == null ? "" : ", its last at header revision "
          + r.getHeader().getRevision() + " (created " + r.getCreated() + ", canceled " + r.getCanceled()
          + (r.getCancelReason().isEmpty() ? "" : ": " + r.getCancelReason()) + ", compact revision "
          + r.getCompactRevision() + ")");
    }
  }

  /** Every event received, in order. */
  List<Event> events() {
    List<Event> out = new ArrayList<>();
    for (Segment s : segments()) {
      s.responses.forEach(r -> out.addAll(r.getEventsList()));
    }
    return out;
  }

  private synchronized void open() {
    if (closed) {
      return;
    }
    Segment segment = new Segment(lastRevision + 1);
    segments.add(segment);
    requests = WatchGrpc.newStub(channel).watch(new StreamObserver<>() {
      boolean ended;

      @Override
      public void onNext(WatchResponse r) {
        synchronized (segment) {
          segment.responses.add(r);
        }
        if (r.getEventsCount() > 0) {
          lastRevision = r.getEvents(r.getEventsCount() - 1).getKv().getModRevision();
        }
        if (r.getCanceled()) {
          reopen();
        }
      }

      @Override
      public void onError(Throwable t) {
        reopen();
      }

      @Override
      public void onCompleted() {
        reopen();
      }

      private void reopen() {
        if (ended) {
          return;
        }
        ended = true;
        channel.resetConnectBackoff();
        try {
          scheduler.schedule(MemberWatcher.this::open, 200, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
          // the test is over
        }
      }
    });
    ByteString prefix = ByteString.copyFromUtf8(Workload.PREFIX);
    requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
        .setKey(prefix).setRangeEnd(rangeEnd(prefix)).setStartRevision(segment.startRev).setPrevKv(true)).build());
  }

  static ByteString rangeEnd(ByteString prefix) {
    byte[] end = prefix.toByteArray();
    end[end.length - 1]++;
    return ByteString.copyFrom(end);
  }

  @Override
  public synchronized void close() {
    closed = true;
    Channels.close(channel);
  }
}
