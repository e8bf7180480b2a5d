package io.dkv.informer;

import io.dkv.client.ListWatch;
import io.dkv.client.RevisionCompactedException;
import io.dkv.client.Versioned;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The informer's etcd source: a thin adapter of dkv-client's {@link ListWatch} to {@link ListerWatcher}. Objects
 * are {@link Versioned} values (key, value, create and mod revision, version, lease), cached under their etcd key
 * with their mod revision; progress notifications become bookmarks, compaction a {@link HistoryGoneException}.
 * Values the codec cannot decode are treated as absent by {@link ListWatch} (logged once, left out of lists, a
 * write of one is a DELETED event, left out of {@link #listRevisions} so audits do not count them as drift).
 */
final class EtcdListerWatcher<T> implements ListerWatcher<Versioned<T>> {

  private final ListWatch<T> source;

  EtcdListerWatcher(ListWatch<T> source) {
    this.source = Objects.requireNonNull(source, "source");
  }

  @Override
  public Page<Versioned<T>> list(long revision, String continueFrom, int limit) {
    ListWatch.Page<T> p = listing(() -> source.list(revision, continueFrom, limit), revision);
    List<Item<Versioned<T>>> items = new ArrayList<>(p.items().size());
    for (Versioned<T> v : p.items()) {
      items.add(new Item<>(v.key(), v, v.modRevision()));
    }
    return new Page<>(items, p.revision(), p.continueFrom());
  }

  @Override
  public Page<Long> listRevisions(long revision, String continueFrom, int limit) {
    ListWatch.Page<T> p = listing(() -> source.listKeys(revision, continueFrom, limit), revision);
    List<Item<Long>> items = new ArrayList<>(p.items().size());
    for (Versioned<T> v : p.items()) {
      items.add(new Item<>(v.key(), v.modRevision(), v.modRevision()));
    }
    return new Page<>(items, p.revision(), p.continueFrom());
  }

  private ListWatch.Page<T> listing(java.util.function.Supplier<ListWatch.Page<T>> read, long revision) {
    try {
      return read.get();
    } catch (RevisionCompactedException e) {
      throw new HistoryGoneException(source.description() + ": revision " + revision + " is compacted",
          e.compactRevision());
    }
  }

  @Override
  public WatchHandle watch(long revision, WatchSink<Versioned<T>> sink) {
    Objects.requireNonNull(sink, "sink");
    ListWatch.Watch w = source.watch(revision, new ListWatch.Sink<>() {
      @Override
      public void changes(List<ListWatch.Change<T>> changes, long serverRevision) {
        List<Event<Versioned<T>>> batch = new ArrayList<>(changes.size());
        for (ListWatch.Change<T> c : changes) {
          Event.Type type = switch (c.type()) {
            case ADDED -> Event.Type.ADDED;
            case MODIFIED -> Event.Type.MODIFIED;
            case DELETED -> Event.Type.DELETED;
          };
          batch.add(new Event<>(type, c.key(), c.type() == ListWatch.Change.Type.DELETED ? c.previous() : c.value(),
              c.revision()));
        }
        // a response holds whole revisions (etcd never splits one unless fragmenting, which is not asked for)
        sink.events(batch);
        sink.serverRevision(serverRevision);
      }

      @Override
      public void created(long serverRevision) {
        sink.serverRevision(serverRevision); // the source answers: no bookmark (events after the start may follow)
      }

      @Override
      public void progress(long revision) {
        sink.serverRevision(revision);
        sink.event(Event.bookmark(revision));
      }

      @Override
      public void historyGone(long compactRevision) {
        sink.closed(new HistoryGoneException("watch of " + source.description()
            + " from a compacted revision; oldest available " + compactRevision, compactRevision));
      }

      @Override
      public void closed(Throwable cause) {
        sink.closed(cause);
      }
    });
    return WatchHandle.of(w::close, w::requestProgress);
  }

  @Override
  public String description() {
    return source.description();
  }
}
