package io.dkv.informer;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListMeta;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.net.HttpURLConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes API as a {@link ListerWatcher}, through fabric8's low-level list and watch calls (not
 * fabric8's informers). Keys are {@code namespace/name} ({@code name} for cluster-scoped kinds), revisions
 * the objects' {@code metadata.resourceVersion}, which must be numeric (as every API server backed by
 * etcd reports it).
 *
 * <p>Lists are paginated with {@code limit} and {@code continue}, so every page shows the state of the
 * first; an expired continue token or a compacted resourceVersion (410 Gone) becomes a
 * {@link HistoryGoneException}. Watches ask for bookmarks ({@code allowWatchBookmarks}); a 410 Gone, as
 * the HTTP status or as an ERROR event, closes the sink with a {@link HistoryGoneException}. Connection
 * failures in between are resumed by fabric8 from the last resourceVersion it saw (fabric8's
 * {@code watchReconnectLimit}); when fabric8 gives up, the sink is closed with the cause.
 */
final class KubernetesListerWatcher<T extends HasMetadata> implements ListerWatcher<T> {

  private static final Logger log = LoggerFactory.getLogger(KubernetesListerWatcher.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  /** Opens watches, since fabric8's watch call waits for the connection and {@link #watch} must not. */
  private static final ExecutorService OPENER = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "dkv-k8s-watch-open-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  private final KubernetesClient client;
  private final Class<T> type;
  private final String namespace;
  private final String labelSelector;
  private final String description;

  KubernetesListerWatcher(KubernetesClient client, Class<T> type, String namespace, String labelSelector) {
    this.client = Objects.requireNonNull(client, "client");
    this.type = Objects.requireNonNull(type, "type");
    if (namespace != null && namespace.isBlank()) {
      throw new IllegalArgumentException("namespace must be null (all namespaces) or a name, got a blank string");
    }
    if (labelSelector != null && labelSelector.isBlank()) {
      throw new IllegalArgumentException("labelSelector must be null (no selection) or a selector, got a blank string");
    }
    this.namespace = namespace;
    this.labelSelector = labelSelector;
    this.description = "k8s:" + type.getSimpleName() + "/" + (namespace == null ? "*" : namespace)
        + (labelSelector == null ? "" : "?" + labelSelector);
  }

  private FilterWatchListDeletable<T, ? extends KubernetesResourceList<T>, Resource<T>> resources() {
    MixedOperation<T, ? extends KubernetesResourceList<T>, Resource<T>> op = client.resources(type);
    return namespace == null ? op.inAnyNamespace() : op.inNamespace(namespace);
  }

  @Override
  public Page<T> list(long revision, String continueFrom, int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive, got " + limit);
    }
    if (revision < 0) {
      throw new IllegalArgumentException("revision must not be negative, got " + revision);
    }
    ListOptionsBuilder o = new ListOptionsBuilder().withLimit((long) limit).withLabelSelector(labelSelector);
    if (continueFrom != null) {
      o.withContinue(continueFrom); // the token carries the resourceVersion of the first page
    } else if (revision > 0) {
      o.withResourceVersion(Long.toString(revision)).withResourceVersionMatch("Exact");
    }
    KubernetesResourceList<T> list;
    try {
      list = resources().list(o.build());
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_GONE) {
        throw new HistoryGoneException(description + ": list at resourceVersion " + revision
            + (continueFrom == null ? "" : " (continuing a paginated list)") + " is gone: " + e.getMessage(), 0);
      }
      throw e;
    }
    ListMeta meta = list.getMetadata();
    long listRevision = parseRevision(meta == null ? null : meta.getResourceVersion(), "the list");
    if (revision > 0 && listRevision != revision) {
      throw new IllegalStateException(description + ": asked for a page at resourceVersion " + revision
          + " and got one at " + listRevision);
    }
    List<Item<T>> items = new ArrayList<>(list.getItems().size());
    for (T object : list.getItems()) {
      items.add(new Item<>(key(object), object, revision(object)));
    }
    String next = meta.getContinue();
    return new Page<>(items, listRevision, next == null || next.isEmpty() ? null : next);
  }

  @Override
  public WatchHandle watch(long revision, WatchSink<T> sink) {
    Objects.requireNonNull(sink, "sink");
    if (revision < 0) {
      throw new IllegalArgumentException("revision must not be negative, got " + revision);
    }
    ListOptions options = new ListOptionsBuilder()
        .withResourceVersion(revision == 0 ? null : Long.toString(revision))
        .withAllowWatchBookmarks(true)
        .withLabelSelector(labelSelector)
        .build();
    KubernetesWatch<T> handle = new KubernetesWatch<>(this, sink, revision);
    OPENER.execute(() -> handle.open(resources(), options));
    return handle;
  }

  @Override
  public String description() {
    return description;
  }

  /** The cache key of {@code object}: {@code namespace/name}, or {@code name} when it has no namespace. */
  static String key(HasMetadata object) {
    ObjectMeta m = object.getMetadata();
    if (m == null || m.getName() == null) {
      throw new IllegalStateException("a " + object.getKind() + " without metadata.name");
    }
    String ns = m.getNamespace();
    return ns == null || ns.isEmpty() ? m.getName() : ns + "/" + m.getName();
  }

  long revision(HasMetadata object) {
    return parseRevision(object.getMetadata() == null ? null : object.getMetadata().getResourceVersion(),
        object.getKind() + " " + key(object));
  }

  long parseRevision(String resourceVersion, String of) {
    if (resourceVersion == null || resourceVersion.isEmpty()) {
      throw new IllegalStateException(description + ": " + of + " has no resourceVersion");
    }
    try {
      return Long.parseLong(resourceVersion);
    } catch (NumberFormatException e) {
      throw new IllegalStateException(description + ": " + of + " has the resourceVersion '" + resourceVersion
          + "', which is not a number; this source needs an API server whose resourceVersions are numeric", e);
    }
  }

  /**
   * One watch: forwards fabric8's callbacks to the sink, one at a time, until closed. {@link #close()} never
   * waits for a sink call in progress (so a caller may close while holding a lock its sink needs).
   */
  static final class KubernetesWatch<T extends HasMetadata> implements WatchHandle, Watcher<T> {
    private final KubernetesListerWatcher<T> source;
    private final WatchSink<T> sink;
    private final long from;
    /** Held while calling the sink, so that calls come one at a time. */
    private final Object delivery = new Object();
    private volatile boolean closed;
    /** Whether fabric8's watch call has returned; before that, a failure is reported by its exception. */
    private volatile boolean opened;
    private Watch watch; // guarded by this

    KubernetesWatch(KubernetesListerWatcher<T> source, WatchSink<T> sink, long from) {
      this.source = source;
      this.sink = sink;
      this.from = from;
    }

    void open(FilterWatchListDeletable<T, ?, ?> resources, ListOptions options) {
      Watch w;
      try {
        w = resources.watch(options, this);
      } catch (KubernetesClientException e) {
        end(e.getCode() == HttpURLConnection.HTTP_GONE ? gone(e.getMessage()) : e);
        return;
      } catch (RuntimeException e) {
        end(e);
        return;
      }
      opened = true;
      synchronized (this) {
        watch = w;
      }
      if (closed) {
        w.close();
      }
    }

    @Override
    public void eventReceived(Action action, T object) {
      synchronized (delivery) {
        if (closed) {
          return;
        }
        Event<T> event;
        try {
          event = switch (action) {
            case ADDED -> new Event<>(Event.Type.ADDED, key(object), object, source.revision(object));
            case MODIFIED -> new Event<>(Event.Type.MODIFIED, key(object), object, source.revision(object));
            case DELETED -> new Event<>(Event.Type.DELETED, key(object), object, source.revision(object));
            case BOOKMARK -> Event.bookmark(source.parseRevision(
                object == null || object.getMetadata() == null ? null : object.getMetadata().getResourceVersion(),
                "a bookmark"));
            case ERROR -> null; // fabric8 reports a non-410 error status this way, then reconnects by itself
          };
        } catch (RuntimeException e) {
          log.warn("{}: cannot use a watch event; closing the watch", source.description, e);
          end(e);
          OPENER.execute(this::closeWatch); // not on fabric8's own thread
          return;
        }
        if (event == null) {
          log.debug("{}: the watch reported an error; fabric8 reconnects", source.description);
          return;
        }
        sink.event(event);
      }
    }

    @Override
    public void onClose(WatcherException cause) {
      end(cause.isHttpGone() ? gone(cause.getMessage()) : cause);
    }

    @Override
    public void onClose() {
      if (opened) { // while opening, fabric8 calls this before throwing the reason from its watch call
        end(null);
      }
    }

    private HistoryGoneException gone(String message) {
      return new HistoryGoneException(source.description + ": watch from resourceVersion " + from
          + " is gone (410): " + message, 0);
    }

    /** Reports the end to the sink, once, unless closed by the caller. */
    private void end(Throwable cause) {
      synchronized (delivery) {
        if (closed) {
          return;
        }
        closed = true;
        sink.closed(cause);
      }
    }

    private void closeWatch() {
      Watch w;
      synchronized (this) {
        w = watch;
      }
      if (w != null) {
        try {
          w.close();
        } catch (RuntimeException e) {
          log.debug("{}: closing the watch", source.description, e);
        }
      }
    }

    @Override
    public void close() {
      closed = true;
      closeWatch();
    }
  }
}
