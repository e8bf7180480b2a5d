package io.dkv.resources;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.controller.Controller;
import io.dkv.controller.EventHandler;
import io.dkv.controller.Manager;
import io.dkv.controller.Request;
import io.dkv.controller.Result;
import io.dkv.informer.Lister;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.resources.ObjectStore.Outcome;
import io.dkv.resources.ObjectStore.Stored;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link GarbageCollector}: an informer over every object under the prefix, keeping only what the decisions
 * need (uid, namespace, owner uids, whether it is being deleted), indexed by uid and by owner uid; a controller
 * reconciles each object that changes and, when an object goes, each of its dependents.
 */
final class OwnerGarbageCollector implements GarbageCollector {
  private static final Logger log = LoggerFactory.getLogger(OwnerGarbageCollector.class);
  private static final String BY_UID = "uid";
  private static final String BY_OWNER = "owner";

  /** What the collector keeps of an object: its etcd key and mod revision, identity and owners. */
  record Node(String key, String uid, String namespace, Set<String> owners, boolean deleting, long revision) {
  }

  private final ObjectStore store;
  private final Clock clock;
  private final SharedIndexInformer<Node> informer;
  private final Lister<Node> cache;
  private final Controller controller;
  private final AtomicLong collected = new AtomicLong();
  private Manager manager;

  OwnerGarbageCollector(String root, ObjectStore store, Json json, Clock clock) {
    this.store = store;
    this.clock = clock;
    String prefix = root + "/";
    this.informer = SharedIndexInformer.builder(new ResourceListerWatcher<>(
            store.client(), prefix, json, OwnerGarbageCollector::node, key -> key, null, "gc:" + prefix))
        .name("garbage-collector")
        .index(BY_UID, n -> n.uid() == null ? List.of() : List.of(n.uid()))
        .index(BY_OWNER, Node::owners)
        .build();
    this.cache = informer.lister();
    this.controller = Controller.builder("garbage-collector")
        .forResource(informer, (Node n) -> Request.ofKey(n.key()))
        .watches(informer, new DependentsOfDeleted())
        .workers(2)
        .build(this::reconcile);
  }

  /** An object tree as a node. */
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
  public synchronized GarbageCollector start() {
    if (manager == null) {
      manager = Manager.builder().build();
      manager.add(controller);
      manager.start();
    }
    return this;
  }

  @Override
  public Controller controller() {
    return controller;
  }

  @Override
  public boolean hasSynced() {
    return informer.hasSynced();
  }

  @Override
  public long collected() {
    return collected.get();
  }

  @Override
  public synchronized void close() {
    if (manager != null) {
      manager.close();
    }
  }

  /** Deletes the object if it has owners and none of them exists. */
  private Result reconcile(Request request) {
    Optional<Node> found = cache.get(request.key());
    if (found.isEmpty()) {
      return Result.done();
    }
    Node n = found.get();
    if (n.owners().isEmpty() || n.deleting() || n.owners().stream().anyMatch(uid -> ownerExists(uid, n))) {
      return Result.done();
    }
    Optional<Stored> current = store.get(n.key());
    if (current.isEmpty() || current.get().modRevision() != n.revision()) {
      return Result.done(); // changed since the cache saw it: that change comes as an event and is decided then
    }
    Outcome outcome = Deletion.deleteOrMark(store, current.get(), clock);
    if (outcome.succeeded()) {
      collected.incrementAndGet();
      log.debug("garbage collector: {} has no owner left ({}); deleted", n.key(), n.owners());
    }
    return Result.done();
  }

  /** Whether {@code ownerUid} names a cached object that may own {@code dependent}. */
  private boolean ownerExists(String ownerUid, Node dependent) {
    return cache.byIndex(BY_UID, ownerUid).stream()
        .anyMatch(o -> o.namespace() == null || o.namespace().equals(dependent.namespace()));
  }

  /** When an object goes, its dependents are decided again. */
  private final class DependentsOfDeleted implements EventHandler<Node> {
    @Override
    public void onAdd(Node object, Consumer<Request> queue) {
    }

    @Override
    public void onUpdate(Node before, Node after, Consumer<Request> queue) {
    }

    @Override
    public void onDelete(Node object, Consumer<Request> queue) {
      if (object.uid() != null) {
        cache.byIndex(BY_OWNER, object.uid()).forEach(d -> queue.accept(Request.ofKey(d.key())));
      }
    }
  }
}
