package io.dkv.resources;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.informer.Event;
import io.dkv.informer.Item;
import io.dkv.informer.ListerWatcher;
import io.dkv.informer.Page;
import io.dkv.informer.WatchHandle;
import io.dkv.informer.WatchSink;
import io.dkv.resources.EtcdPrefixSource.RawPage;
import io.dkv.resources.EtcdPrefixSource.RawSink;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The objects under one key prefix as an informer source: decoded stored objects whose resourceVersion is
 * their mod revision, filtered (an object that stops matching is reported deleted, one that starts matching
 * is reported added). A stored value that cannot be decoded is logged and treated as absent.
 */
final class ResourceListerWatcher<T> implements ListerWatcher<T> {
  private static final Logger log = LoggerFactory.getLogger(ResourceListerWatcher.class);

  /** Turns a stored tree (its etcd key, its tree, a revision) into the object handed out. */
  interface Decoder<T> {
    T decode(String key, ObjectNode tree, long revision);
  }

  private final EtcdPrefixSource source;
  private final Json json;
  private final Decoder<T> decoder;
  private final Function<String, String> cacheKey;
  private final Predicate<ObjectNode> filter;
  private final String description;

  ResourceListerWatcher(EtcdPrefixSource source, Json json, Decoder<T> decoder, Function<String, String> cacheKey,
      Predicate<ObjectNode> filter, String description) {
    this.source = source;
    this.json = json;
    this.decoder = decoder;
    this.cacheKey = cacheKey;
    this.filter = filter;
    this.description = description;
  }

  @Override
  public Page<T> list(long revision, String continueFrom, int limit) {
    RawPage raw = source.list(revision, continueFrom, limit);
    List<Item<T>> items = new ArrayList<>(raw.kvs().size());
    for (KeyValue kv : raw.kvs()) {
      T object = matching(kv, kv.getModRevision());
      if (object != null) {
        items.add(new Item<>(cacheKey.apply(key(kv)), object, kv.getModRevision()));
      }
    }
    return new Page<>(items, raw.revision(), raw.next());
  }

  @Override
  public WatchHandle watch(long revision, WatchSink<T> sink) {
    Objects.requireNonNull(sink, "sink");
    EtcdPrefixSource.RawWatch raw = source.watch(revision, new RawSink() {
      @Override
      public void response(WatchResponse response) {
        if (response.isCreatedNotify()) {
          return;
        }
        if (response.getEvents().isEmpty()) {
          if (response.isProgressNotify()) {
            sink.serverRevision(response.getHeader().getRevision());
            sink.event(Event.bookmark(response.getHeader().getRevision()));
          }
          return;
        }
        for (WatchEvent e : response.getEvents()) {
          Event<T> event = convert(e);
          if (event != null) {
            sink.event(event);
          }
        }
        sink.serverRevision(response.getHeader().getRevision());
      }

      @Override
      public void closed(Throwable cause) {
        sink.closed(cause);
      }
    });
    return new WatchHandle() {
      @Override
      public void close() {
        raw.close();
      }

      @Override
      public boolean requestProgress() {
        return raw.requestProgress();
      }
    };
  }

  @Override
  public String description() {
    return description;
  }

  private Event<T> convert(WatchEvent e) {
    KeyValue kv = e.getKeyValue();
    long revision = kv.getModRevision();
    String key = cacheKey.apply(key(kv));
    KeyValue prev = e.getPrevKV();
    T before = prev != null && prev.getVersion() > 0 ? matching(prev, revision) : null;
    if (e.getEventType() == WatchEvent.EventType.DELETE) {
      return before == null ? null : new Event<>(Event.Type.DELETED, key, before, revision);
    }
    T after = matching(kv, revision);
    if (after != null) {
      return new Event<>(before == null ? Event.Type.ADDED : Event.Type.MODIFIED, key, after, revision);
    }
    return before == null ? null : new Event<>(Event.Type.DELETED, key, before, revision);
  }

  /** The decoded object if it passes the filter; null if not, or if it cannot be decoded. */
  private T matching(KeyValue kv, long revision) {
    try {
      ObjectNode tree = json.parse(kv.getValue().getBytes());
      return filter.test(tree) ? decoder.decode(key(kv), tree, revision) : null;
    } catch (RuntimeException e) {
      log.error("{}: cannot decode the object at {} (revision {}); treating it as absent", description, key(kv),
          kv.getModRevision(), e);
      return null;
    }
  }

  private static String key(KeyValue kv) {
    return kv.getKey().toString(StandardCharsets.UTF_8);
  }
}
