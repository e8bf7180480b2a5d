package io.dkv.server.watch;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.WatchResponse;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Writes a watcher's events as etcd does: one response (or fragments, for a watcher that asked, above the
 * size limit), with prev_kv for watchers that asked for it. What a delivery step shares between watchers
 * (encoded events, previous values, the header) is computed once per step. Hub thread only.
 */
final class EventSender {

  /** etcd's WatchResponse.fragment, which jetcd's older proto lacks. */
  private static final int RESPONSE_FRAGMENT_FIELD = 7;

  private final MvccStore store;
  private final LongFunction<ResponseHeader> header;
  private final long maxRequestBytes;
  private final EncodedResponses encoder = new EncodedResponses();
  private final Map<Event, KeyValue> previous = new IdentityHashMap<>();
  private ResponseHeader lastHeader;

  EventSender(MvccStore store, LongFunction<ResponseHeader> header, long maxRequestBytes) {
    this.store = store;
    this.header = header;
    this.maxRequestBytes = maxRequestBytes;
  }

  /** Sends {@code events} (whole revisions, in order) to {@code w}, in a response at revision {@code rev}. */
  void send(Watcher w, List<Event> events, long rev) {
    if (!w.prevKv && !w.fragment) {
      w.stream.send(encoder.encode(headerAt(rev), w.id, events));
      return;
    }
    List<Event> out = events;
    if (w.prevKv) {
      out = new ArrayList<>(events.size());
      for (Event e : events) {
        KeyValue prev = previous.computeIfAbsent(e, this::previous);
        out.add(prev.equals(KeyValue.getDefaultInstance()) ? e : e.toBuilder().setPrevKv(prev).build());
      }
    }
    WatchResponse r = WatchResponse.newBuilder().setHeader(headerAt(rev)).setWatchId(w.id)
        .addAllEvents(out).build();
    if (!w.fragment || r.getSerializedSize() < maxRequestBytes || out.size() < 2) {
      w.stream.send(r);
      return;
    }
    int idx = 0;
    while (idx < out.size()) {
      WatchResponse.Builder part = r.toBuilder().clearEvents();
      while (idx < out.size()) {
        part.addEvents(out.get(idx));
        if (part.getEventsCount() > 1 && part.build().getSerializedSize() >= maxRequestBytes) {
          part.removeEvents(part.getEventsCount() - 1);
          break;
        }
        idx++;
      }
      if (idx < out.size()) {
        part.setUnknownFields(UnknownFieldSet.newBuilder().addField(RESPONSE_FRAGMENT_FIELD,
            UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build());
      }
      w.stream.send(part.build());
    }
  }

  /** Forgets what this step's watchers shared. */
  void endStep() {
    encoder.clear();
    previous.clear();
  }

  /** The header at {@code rev}; the last one is kept, since a revision's responses to all watchers share it. */
  private ResponseHeader headerAt(long rev) {
    if (lastHeader == null || lastHeader.getRevision() != rev) {
      lastHeader = header.apply(rev);
    }
    return lastHeader;
  }

  /** The key's value before the event, as etcd sends in prev_kv; a default instance when there is none. */
  private KeyValue previous(Event e) {
    KeyValue kv = e.getKv();
    if (e.getType() == Event.EventType.PUT && kv.getVersion() == 1) {
      return KeyValue.getDefaultInstance();
    }
    try {
      List<KeyValue> kvs = store.read().range(kv.getKey(), ByteString.EMPTY, 0, kv.getModRevision() - 1, false).kvs();
      return kvs.isEmpty() ? KeyValue.getDefaultInstance() : kvs.get(0);
    } catch (RuntimeException compacted) {
      return KeyValue.getDefaultInstance(); // history compacted: etcd sends no prev_kv either
    }
  }
}
