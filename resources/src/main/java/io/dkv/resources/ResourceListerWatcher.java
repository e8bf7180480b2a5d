package io.dkv.resources;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.ListWatch;
import io.dkv.client.RevisionCompactedException;
import io.dkv.client.Versioned;
import io.dkv.informer.Event;
import io.dkv.informer.HistoryGoneException;
import io.dkv.informer.Item;
import io.dkv.informer.ListerWatcher;
import io.dkv.informer.Page;
import io.dkv.informer.WatchHandle;
import io.dkv.informer.WatchSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The objects under one key prefix as an informer source: a thin adapter of dkv-client's {@link ListWatch} over
 * the stored JSON trees, with previous values and the selector as its filter, so an object whose labels start
 * matching is reported ADDED and one that stops matching DELETED (with its last matching state), and objects
 * outside the selector are simply absent (nothing logged). Objects carry resourceVersion = the revision of the
 * event. A stored value that is not JSON is logged by the source and treated as absent; one that is JSON but not
 * an object of the type is logged here and treated as absent too.
 */
final class ResourceListerWatcher<T> implements ListerWatcher<T> {
  private static final Logger log = LoggerFactory.getLogger(ResourceListerWatcher.class);

  /** Turns a stored tree (its etcd key, its tree, a revision) into the object handed out. */
  interface Decoder<T> {
    T decode(String key, ObjectNode tree, long revision);
  }

  private final ListWatch<ObjectNode> source;
  private final Decoder<T> decoder;
  private final Function<String, String> cacheKey;
  private final String description;

  /** @param filter which stored trees exist for this source; null: all */
  ResourceListerWatcher(DkvClient client, String prefix, Json json, Decoder<T> decoder,
      Function<String, String> cacheKey, Predicate<ObjectNode> filter, String description) {
    if (!prefix.endsWith("/")) {
      throw new IllegalArgumentException("prefix must end with '/': " + prefix);
    }
    ListWatch.Builder<ObjectNode> b = ListWatch.prefix(client, prefix, codec(json)).previousValues(true);
    if (filter != null) {
      b.filter(v -> filter.test(v.value()));
    }
    this.source = b.build();
    this.decoder = decoder;
    this.cacheKey = cacheKey;
    this.description = description;
  }

  private static Codec<ObjectNode> codec(Json json) {
    return new Codec<>() {
      @Override
      public byte[] encode(ObjectNode value) {
        return json.bytes(value);
      }

      @Override
      public ObjectNode decode(byte[] bytes) {
        return json.parse(bytes);
      }
    };
  }

  @Override
  public Page<T> list(long revision, String continueFrom, int limit) {
    ListWatch.Page<ObjectNode> raw = listing(() -> source.list(revision, continueFrom, limit), revision);
    List<Item<T>> items = new ArrayList<>(raw.items().size());
    for (Versioned<ObjectNode> v : raw.items()) {
      T object = object(v, v.modRevision());
      if (object != null) {
        items.add(new Item<>(cacheKey.apply(v.key()), object, v.modRevision()));
      }
    }
    return new Page<>(items, raw.revision(), raw.continueFrom());
  }

  @Override
  public Page<Long> listRevisions(long revision, String continueFrom, int limit) {
    ListWatch.Page<ObjectNode> raw = listing(() -> source.listKeys(revision, continueFrom, limit), revision);
    List<Item<Long>> items = new ArrayList<>(raw.items().size());
    for (Versioned<ObjectNode> v : raw.items()) {
      items.add(new Item<>(cacheKey.apply(v.key()), v.modRevision(), v.modRevision()));
    }
    return new Page<>(items, raw.revision(), raw.continueFrom());
  }

  private ListWatch.Page<ObjectNode> listing(Supplier<ListWatch.Page<ObjectNode>> read, long revision) {
    try {
      return read.get();
    } catch (RevisionCompactedException e) {
      throw new HistoryGoneException(description + ": revision " + revision + " is compacted",
          e.compactRevision());
    }
  }

  @Override
  public WatchHandle watch(long revision, WatchSink<T> sink) {
    Objects.requireNonNull(sink, "sink");
    ListWatch.Watch w = source.watch(revision, new ListWatch.Sink<>() {
      @Override
      public void changes(List<ListWatch.Change<ObjectNode>> changes, long serverRevision) {
        List<Event<T>> events = new ArrayList<>(changes.size());
        for (ListWatch.Change<ObjectNode> c : changes) {
          Event<T> e = event(c);
          if (e != null) {
            events.add(e);
          }
        }
        sink.events(events);
        sink.serverRevision(serverRevision);
      }

      @Override
      public void progress(long revision) {
        sink.serverRevision(revision);
        sink.event(Event.bookmark(revision));
      }

      @Override
      public void historyGone(long compactRevision) {
        sink.closed(new HistoryGoneException("watch of " + description + " from " + (revision + 1)
            + ": history compacted", compactRevision));
      }

      @Override
      public void closed(Throwable cause) {
        sink.closed(cause);
      }
    });
    return WatchHandle.of(w::close, w::requestProgress);
  }

  private Event<T> event(ListWatch.Change<ObjectNode> c) {
    String key = cacheKey.apply(c.key());
    long revision = c.revision();
    T before = c.previous() == null ? null : object(c.previous(), revision);
    if (c.type() == ListWatch.Change.Type.DELETED) {
      return before == null ? null : new Event<>(Event.Type.DELETED, key, before, revision);
    }
    T after = object(c.value(), revision);
    if (after == null) {
      return before == null ? null : new Event<>(Event.Type.DELETED, key, before, revision);
    }
    return new Event<>(before == null ? Event.Type.ADDED : Event.Type.MODIFIED, key, after, revision);
  }

  /** The object of a stored tree, with resourceVersion {@code revision}; null (logged) if it cannot be one. */
  private T object(Versioned<ObjectNode> v, long revision) {
    try {
      return decoder.decode(v.key(), v.value(), revision);
    } catch (RuntimeException e) {
      log.error("{}: cannot decode the object at {} (revision {}); treating it as absent: {}", description, v.key(),
          v.modRevision(), e.toString());
      return null;
    }
  }

  @Override
  public String description() {
    return description;
  }
}
