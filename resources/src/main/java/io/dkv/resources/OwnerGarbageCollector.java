package io.dkv.resources;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.informer.Event;
import io.dkv.informer.HistoryGoneException;
import io.dkv.informer.Item;
import io.dkv.informer.ListerWatcher;
import io.dkv.informer.Page;
import io.dkv.informer.WatchSink;
import io.dkv.resources.Store.Outcome;
import io.dkv.resources.Store.Stored;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link GarbageCollector}: a list-then-watch loop over every object under the prefix, on one thread, keeping
 * only what the decisions need (uid, namespace, owner uids, whether it is being deleted) and an index from owner
 * uid to dependents. (Written as a small watch-driven loop: the controller runtime was not available to build on.)
 */
final class OwnerGarbageCollector implements GarbageCollector {
  private static final Logger log = LoggerFactory.getLogger(OwnerGarbageCollector.class);
  private static final int PAGE = 500;
  private static final Duration MIN_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

  /** What the collector keeps of an object. */
  record Node(String key, String uid, String namespace, Set<String> owners, boolean deleting, long revision) {
  }

  private final ListerWatcher<Node> source;
  private final Store store;
  private final Clock clock;
  private final ScheduledExecutorService loop;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicLong collected = new AtomicLong();
  private volatile boolean synced;
  private volatile boolean closed;

  // owned by the loop thread
  private final Map<String, Node> objects = new HashMap<>();
  private final Map<String, Node> byUid = new HashMap<>();
  private final Map<String, Set<String>> dependents = new HashMap<>();
  private long revision;
  private int session;
  private AutoCloseable watch;
  private Duration backoff = MIN_BACKOFF;

  OwnerGarbageCollector(String root, Store store, Json json, Clock clock) {
    this.store = store;
    this.clock = clock;
    String prefix = root + "/";
    this.source = new ResourceListerWatcher<>(new EtcdPrefixSource(store.client(), prefix, store.timeout()), json,
        OwnerGarbageCollector::node, key -> key, tree -> true, "gc:" + prefix);
    this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "dkv-resources-gc");
      t.setDaemon(true);
      return t;
    });
  }

  /** For the source: an object tree as a node. */
  static Node node(String key, ObjectNode tree, long revision) {
    ObjectNode meta = Json.metadata(tree);
    Set<String> owners = new LinkedHashSet<>();
    JsonNode refs = meta.get("ownerReferences");
    if (refs != null && refs.isArray()) {
      refs.forEach(r -> {
        String uid = Validation.text(r, "uid");
        if (uid != null && !uid.isEmpty()) {
          owners.add(uid);
        }
      });
    }
    return new Node(key, Validation.text(meta, "uid"), Validation.text(meta, "namespace"), Set.copyOf(owners),
        meta.hasNonNull("deletionTimestamp"), revision);
  }

  @Override
  public GarbageCollector start() {
    if (started.compareAndSet(false, true)) {
      loop.execute(this::relist);
    }
    return this;
  }

  @Override
  public boolean hasSynced() {
    return synced;
  }

  @Override
  public long collected() {
    return collected.get();
  }

  @Override
  public void close() {
    closed = true;
    loop.execute(this::closeWatch);
    loop.shutdown();
    try {
      if (!loop.awaitTermination(30, TimeUnit.SECONDS)) {
        log.warn("garbage collector: the loop did not stop within 30 s");
        loop.shutdownNow();
      }
    } catch (InterruptedException e) {
      loop.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ the loop (one thread)

  private void relist() {
    if (closed) {
      return;
    }
    closeWatch();
    try {
      List<Node> all = new ArrayList<>();
      Page<Node> page = source.list(0, null, PAGE);
      long at = page.revision();
      page.items().forEach(i -> all.add(i.object()));
      while (page.hasMore()) {
        page = source.list(at, page.continueFrom(), PAGE);
        page.items().forEach(i -> all.add(i.object()));
      }
      objects.clear();
      byUid.clear();
      dependents.clear();
      all.forEach(this::add);
      revision = at;
      log.debug("garbage collector: {} objects at revision {}", all.size(), at);
      for (Node n : all) {
        decide(n.key());
      }
      synced = true;
      openWatch();
    } catch (RuntimeException e) {
      retry("list", e, this::relist);
    }
  }

  private void openWatch() {
    int mine = ++session;
    watch = source.watch(revision, new WatchSink<>() {
      @Override
      public void event(Event<Node> event) {
        runInLoop(() -> {
          if (mine == session) {
            apply(event);
          }
        });
      }

      @Override
      public void closed(Throwable cause) {
        runInLoop(() -> {
          if (mine != session) {
            return;
          }
          if (cause instanceof HistoryGoneException) {
            log.info("garbage collector: {}; listing again", cause.getMessage());
            relist();
          } else {
            retry("watch", cause, () -> {
              closeWatch();
              openWatch();
            });
          }
        });
      }
    });
    backoff = MIN_BACKOFF;
  }

  private void apply(Event<Node> event) {
    if (event.revision() > revision) {
      revision = event.revision();
    }
    switch (event.type()) {
      case BOOKMARK -> { }
      case ADDED, MODIFIED -> {
        Node old = objects.get(event.key());
        if (old != null) {
          remove(old);
        }
        Node node = event.object();
        add(node);
        decide(node.key());
        if (old != null && old.uid() != null && !old.uid().equals(node.uid())) {
          decideDependentsOf(old.uid());
        }
      }
      case DELETED -> {
        Node old = objects.get(event.key());
        if (old != null) {
          remove(old);
          if (old.uid() != null) {
            decideDependentsOf(old.uid());
          }
        }
      }
      default -> throw new IllegalStateException("unknown event " + event.type());
    }
  }

  private void decideDependentsOf(String uid) {
    for (String key : List.copyOf(dependents.getOrDefault(uid, Set.of()))) {
      decide(key);
    }
  }

  /** Deletes the object at {@code key} if it has owners and none of them exists. */
  private void decide(String key) {
    Node n = objects.get(key);
    if (n == null || n.owners().isEmpty() || n.deleting() || n.owners().stream().anyMatch(uid -> owns(uid, n))) {
      return;
    }
    try {
      Optional<Stored> current = store.get(key);
      if (current.isEmpty() || current.get().modRevision() != n.revision()) {
        return; // changed since: its event will come and be decided
      }
      Outcome outcome = Deletion.deleteOrMark(store, current.get(), clock);
      if (outcome.succeeded()) {
        collected.incrementAndGet();
        log.debug("garbage collector: {} has no owner left ({}); deleted", key, n.owners());
      }
    } catch (RuntimeException e) {
      log.warn("garbage collector: cannot delete {}: {}; trying again", key, e.toString());
      if (!closed) {
        loop.schedule(() -> decide(key), MAX_BACKOFF.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  /** Whether {@code ownerUid} names an existing object that may own {@code dependent}. */
  private boolean owns(String ownerUid, Node dependent) {
    Node owner = byUid.get(ownerUid);
    return owner != null && (owner.namespace() == null || owner.namespace().equals(dependent.namespace()));
  }

  private void add(Node n) {
    objects.put(n.key(), n);
    if (n.uid() != null) {
      byUid.put(n.uid(), n);
    }
    for (String owner : n.owners()) {
      dependents.computeIfAbsent(owner, k -> new HashSet<>()).add(n.key());
    }
  }

  private void remove(Node n) {
    objects.remove(n.key());
    if (n.uid() != null) {
      byUid.remove(n.uid(), n);
    }
    for (String owner : n.owners()) {
      Set<String> d = dependents.get(owner);
      if (d != null) {
        d.remove(n.key());
        if (d.isEmpty()) {
          dependents.remove(owner);
        }
      }
    }
  }

  private void retry(String what, Throwable cause, Runnable again) {
    if (closed) {
      return;
    }
    long delay = ThreadLocalRandom.current().nextLong(backoff.toMillis() / 2, backoff.toMillis() + 1);
    log.warn("garbage collector: {} failed ({}); again in {} ms", what, String.valueOf(cause), delay);
    backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    loop.schedule(again, delay, TimeUnit.MILLISECONDS);
  }

  private void runInLoop(Runnable r) {
    if (!closed) {
      try {
        loop.execute(r);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closing
      }
    }
  }

  private void closeWatch() {
    session++;
    if (watch != null) {
      try {
        watch.close();
      } catch (Exception e) {
        log.debug("garbage collector: closing the watch failed", e);
      }
      watch = null;
    }
  }
}
