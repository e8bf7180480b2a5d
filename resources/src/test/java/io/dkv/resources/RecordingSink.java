package io.dkv.resources;

import io.dkv.informer.Event;
import io.dkv.informer.WatchSink;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records a watch's events (bookmarks apart) and how it ended. */
final class RecordingSink<T> implements WatchSink<T> {
  final List<Event<T>> events = new CopyOnWriteArrayList<>();
  final List<Long> bookmarks = new CopyOnWriteArrayList<>();
  final CompletableFuture<Throwable> closed = new CompletableFuture<>();

  @Override
  public void event(Event<T> event) {
    if (event.type() == Event.Type.BOOKMARK) {
      bookmarks.add(event.revision());
    } else {
      events.add(event);
    }
  }

  @Override
  public void closed(Throwable cause) {
    closed.complete(cause);
  }

  List<String> summary() {
    return events.stream().map(e -> e.type() + " " + e.key()).toList();
  }
}
