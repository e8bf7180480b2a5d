package io.dkv.resources;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.controller.LabelSelectors;
import io.dkv.informer.ListerWatcher;
import io.dkv.resources.ObjectStore.Outcome;
import io.dkv.resources.ObjectStore.Stored;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/** {@link ResourceClient} over an etcd-v3 store: every write is one transaction guarded by a mod revision. */
final class StoredResourceClient<T extends HasMetadata> implements ResourceClient<T> {
  /** Server-managed metadata: kept from the stored object by updates, assigned by create. */
  private static final List<String> SERVER_MANAGED = List.of("uid", "creationTimestamp", "deletionTimestamp",
      "deletionGracePeriodSeconds", "generation", "generateName");
  private static final String SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789";
  private static final int DELETE_ATTEMPTS = 100;

  private final ResourceType type;
  private final Class<T> javaType;
  private final String kindPrefix;
  private final ObjectStore store;
  private final Json json;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  StoredResourceClient(ResourceType type, Class<T> javaType, String root, ObjectStore store, Json json, Clock clock) {
    this.type = type;
    this.javaType = javaType;
    this.kindPrefix = type.kindPrefix(root);
    this.store = store;
    this.json = json;
    this.clock = clock;
  }

  @Override
  public String kind() {
    return type.kind();
  }

  @Override
  public String apiVersion() {
    return type.apiVersion();
  }

  @Override
  public boolean namespaced() {
    return type.namespaced();
  }

  /** The etcd key prefix of the objects in {@code namespace} (null: all), ending with {@code /}. */
  String keyPrefix(String namespace) {
    if (!type.namespaced() || namespace == null) {
      return kindPrefix;
    }
    if (namespace.isEmpty() || namespace.contains("/")) {
      throw new IllegalArgumentException("invalid namespace \"" + namespace + "\"");
    }
    return kindPrefix + namespace + "/";
  }

  // ------------------------------------------------------------------ reads

  @Override
  public Optional<T> get(String namespace, String name) {
    return store.get(key(namespace, name)).map(this::toObject);
  }

  @Override
  public List<T> list(String namespace) {
    return list(namespace, tree -> true);
  }

  @Override
  public List<T> list(String namespace, LabelSelector selector) {
    Predicate<Map<String, String>> matcher = LabelSelectors.matcher(selector);
    return list(namespace, tree -> matcher.test(Json.labels(tree)));
  }

  @Override
  public List<T> list(String namespace, Map<String, String> labels) {
    Objects.requireNonNull(labels, "labels");
    Map<String, String> wanted = Map.copyOf(labels);
    return list(namespace, tree -> Json.labels(tree).entrySet().containsAll(wanted.entrySet()));
  }

  private List<T> list(String namespace, Predicate<ObjectNode> filter) {
    List<T> out = new ArrayList<>();
    for (Stored s : store.list(keyPrefix(namespace))) {
      if (filter.test(s.tree())) {
        out.add(toObject(s));
      }
    }
    return out;
  }

  @Override
  public ListerWatcher<T> listerWatcher(String namespace, LabelSelector selector) {
    String prefix = keyPrefix(namespace);
    Predicate<Map<String, String>> matcher = LabelSelectors.matcher(selector);
    String description = "resources:" + prefix + (selector == null ? "" : "?" + LabelSelectors.format(selector));
    return new ResourceListerWatcher<>(store.client(), prefix, json, (key, tree, revision) -> toObject(tree, revision),
        key -> key.substring(kindPrefix.length()), selector == null ? null : tree -> matcher.test(Json.labels(tree)),
        description);
  }

  // ------------------------------------------------------------------ writes

  @Override
  public T create(T object) {
    Objects.requireNonNull(object, "object");
    ObjectNode tree = json.tree(object);
    ObjectNode meta = Json.metadata(tree);
    String name = Validation.text(meta, "name");
    String generateName = Validation.text(meta, "generateName");
    if ((name == null || name.isEmpty()) && generateName != null && !generateName.isEmpty()) {
      name = generateName(generateName);
      meta.put("name", name);
    }
    checkKind(tree, name);
    if (!type.namespaced()) {
      meta.remove("namespace");
    }
    requireValid(name, Validation.metadata(meta, type.namespaced()));
    meta.remove(SERVER_MANAGED);
    meta.remove("resourceVersion");
    if (generateName != null) {
      meta.put("generateName", generateName);
    }
    meta.put("uid", UUID.randomUUID().toString());
    meta.put("creationTimestamp", now());
    meta.put("generation", 1L);
    tree.remove("status");
    Outcome outcome = store.create(key(tree), tree);
    if (!outcome.succeeded()) {
      throw Errors.alreadyExists(type, name);
    }
    return toObject(tree, outcome.revision());
  }

  @Override
  public T update(T object) {
    Update u = prepareUpdate(object);
    ObjectNode next = merge(u.current().tree(), u.tree());
    if (next.equals(u.current().tree())) {
      return toObject(u.current());
    }
    ObjectNode nextMeta = Json.metadata(next);
    if (nextMeta.hasNonNull("deletionTimestamp") && !Json.hasFinalizers(nextMeta)) {
      return toObject(next, checked(store.delete(u.key(), u.expected()), u.name()));
    }
    return toObject(next, checked(store.put(u.key(), u.expected(), next), u.name()));
  }

  /** An update's validated object, its key and name, the resourceVersion it expects, and the stored current state. */
  private record Update(ObjectNode tree, String key, String name, long expected, Stored current) {}

  /**
   * Validates an update or updateStatus request and reads the stored object it applies to.
   *
   * @throws KubernetesClientException 422 for an invalid object, 404 when absent, 409 when its resourceVersion is stale
   */
  private Update prepareUpdate(T object) {
    Objects.requireNonNull(object, "object");
    ObjectNode tree = json.tree(object);
    ObjectNode meta = Json.metadata(tree);
    String name = Validation.text(meta, "name");
    checkKind(tree, name);
    if (!type.namespaced()) {
      meta.remove("namespace");
    }
    List<StatusCause> causes = new ArrayList<>(Validation.metadata(meta, type.namespaced()));
    causes.addAll(Validation.resourceVersionForUpdate(Validation.text(meta, "resourceVersion")));
    requireValid(name, causes);
    long expected = parseResourceVersion(name, Validation.text(meta, "resourceVersion"));
    String key = key(tree);
    Stored current = store.get(key).orElseThrow(() -> Errors.notFound(type, name));
    if (current.modRevision() != expected) {
      throw Errors.staleResourceVersion(type, name);
    }
    return new Update(tree, key, name, expected, current);
  }

  @Override
  public T updateStatus(T object) {
    Update u = prepareUpdate(object);
    ObjectNode next = u.current().tree().deepCopy();
    JsonNode status = u.tree().get("status");
    if (status == null || status.isNull()) {
      next.remove("status");
    } else {
      next.set("status", status);
    }
    if (next.equals(u.current().tree())) {
      return toObject(u.current());
    }
    return toObject(next, checked(store.put(u.key(), u.expected(), next), u.name()));
  }

  @Override
  public boolean delete(String namespace, String name) {
    return delete(namespace, name, null);
  }

  @Override
  public boolean delete(String namespace, String name, String resourceVersion) {
    String key = key(namespace, name);
    Long expected = resourceVersion == null ? null : parseResourceVersion(name, resourceVersion);
    for (int attempt = 0; attempt < DELETE_ATTEMPTS; attempt++) {
      Optional<Stored> found = store.get(key);
      if (found.isEmpty()) {
        return false;
      }
      Stored current = found.get();
      if (expected != null && current.modRevision() != expected) {
        throw preconditionFailed(name, expected, current.modRevision());
      }
      Outcome outcome = Deletion.deleteOrMark(store, current, clock);
      if (outcome.succeeded()) {
        return true;
      }
      if (expected != null) {
        if (outcome.current().isEmpty()) {
          return false;
        }
        throw preconditionFailed(name, expected, outcome.current().get().modRevision());
      }
    }
    throw Errors.conflict(type, name, "the object kept changing while it was being deleted");
  }

  // ------------------------------------------------------------------ helpers

  /** The stored form of an update: the new metadata and spec, the stored status and server-managed fields. */
  private ObjectNode merge(ObjectNode current, ObjectNode update) {
    ObjectNode next = update.deepCopy();
    JsonNode status = current.get("status");
    if (status == null) {
      next.remove("status");
    } else {
      next.set("status", status);
    }
    ObjectNode curMeta = Json.metadata(current);
    ObjectNode meta = Json.metadata(next);
    meta.remove("resourceVersion");
    for (String field : SERVER_MANAGED) {
      JsonNode v = curMeta.get(field);
      if (v == null) {
        meta.remove(field);
      } else {
        meta.set(field, v);
      }
    }
    if (curMeta.hasNonNull("deletionTimestamp")) {
      Set<String> added = strings(meta.get("finalizers"));
      added.removeAll(strings(curMeta.get("finalizers")));
      if (!added.isEmpty()) {
        throw Errors.invalid(type, Validation.text(meta, "name"), List.of(new StatusCause("metadata.finalizers",
            "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers "
                + added, "FieldValueForbidden")));
      }
    }
    if (!Json.specPart(next).equals(Json.specPart(current))) {
      meta.put("generation", curMeta.path("generation").asLong(0) + 1);
    }
    return next;
  }

  private static Set<String> strings(JsonNode array) {
    Set<String> out = new HashSet<>();
    if (array != null) {
      array.forEach(n -> out.add(n.asText()));
    }
    return out;
  }

  private void checkKind(ObjectNode tree, String name) {
    String kind = Validation.text(tree, "kind");
    if (kind == null || kind.isEmpty()) {
      tree.put("kind", type.kind());
    } else if (!kind.equals(type.kind())) {
      throw Errors.badRequest(type, name,
          "the kind in the data (" + kind + ") does not match the expected kind (" + type.kind() + ")");
    }
    String apiVersion = Validation.text(tree, "apiVersion");
    if (apiVersion == null || apiVersion.isEmpty()) {
      tree.put("apiVersion", type.apiVersion());
    } else if (!apiVersion.equals(type.apiVersion())) {
      throw Errors.badRequest(type, name, "the API version in the data (" + apiVersion
          + ") does not match the expected API version (" + type.apiVersion() + ")");
    }
  }

  private void requireValid(String name, List<StatusCause> causes) {
    if (!causes.isEmpty()) {
      throw Errors.invalid(type, name, causes);
    }
  }

  private long parseResourceVersion(String name, String resourceVersion) {
    try {
      long rv = Long.parseLong(resourceVersion);
      if (rv > 0) {
        return rv;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw Errors.badRequest(type, name, "invalid resourceVersion \"" + resourceVersion
        + "\": a resourceVersion is a positive decimal number as returned by the store");
  }

  private KubernetesClientException preconditionFailed(String name, long expected, long actual) {
    return Errors.conflict(type, name, "the ResourceVersion in the precondition (" + expected
        + ") does not match the ResourceVersion in record (" + actual + "). The object might have been modified");
  }

  /** The revision of a successful guarded write; otherwise the error its failure means. */
  private long checked(Outcome outcome, String name) {
    if (outcome.succeeded()) {
      return outcome.revision();
    }
    if (outcome.current().isEmpty()) {
      throw Errors.notFound(type, name);
    }
    throw Errors.staleResourceVersion(type, name);
  }

  private String key(ObjectNode validTree) {
    ObjectNode meta = Json.metadata(validTree);
    return key(Validation.text(meta, "namespace"), Validation.text(meta, "name"));
  }

  String key(String namespace, String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.contains("/")) {
      throw new IllegalArgumentException("invalid name \"" + name + "\"");
    }
    if (type.namespaced() && (namespace == null || namespace.isEmpty())) {
      throw new IllegalArgumentException(type.kind() + " is namespaced: give a namespace");
    }
    return keyPrefix(namespace) + name;
  }

  private String generateName(String base) {
    String prefix = base.length() > 58 ? base.substring(0, 58) : base;
    StringBuilder sb = new StringBuilder(prefix);
    for (int i = 0; i < 5; i++) {
      sb.append(SUFFIX_CHARS.charAt(random.nextInt(SUFFIX_CHARS.length())));
    }
    return sb.toString();
  }

  private String now() {
    return Deletion.timestamp(clock);
  }

  T toObject(Stored stored) {
    return toObject(stored.tree(), stored.modRevision());
  }

  T toObject(ObjectNode tree, long revision) {
    ObjectNode copy = tree.deepCopy();
    Json.metadata(copy).put("resourceVersion", Long.toString(revision));
    return json.object(copy, javaType);
  }
}
