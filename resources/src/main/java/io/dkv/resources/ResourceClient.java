package io.dkv.resources;

import io.dkv.informer.ListerWatcher;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Kubernetes-style objects of one kind stored in DKV or etcd, under
 * {@code <prefix>/<group>/<plural>/<namespace>/<name>} (group {@code core} for the legacy core group; no
 * namespace segment for cluster-scoped kinds), as fabric8 JSON. Get one from {@link DkvResources#resources}
 * or {@link DkvResources#genericResources}. Thread-safe.
 *
 * <p>The contract is the Kubernetes API server's:
 * <ul>
 *   <li>{@code metadata.resourceVersion} is the etcd mod revision of the object's key. {@link #create} assigns
 *       {@code uid}, {@code creationTimestamp} and {@code generation = 1} and fails with 409 AlreadyExists if
 *       the object exists. {@link #update}, {@link #updateStatus} and the conditional {@link #delete} compare
 *       the given resourceVersion with the stored one in the same etcd transaction that writes, and fail with
 *       409 Conflict when it is stale, so concurrent read-modify-write loops never lose an update.</li>
 *   <li>{@link #update} changes everything but {@code status} (and the server-managed metadata); it increments
 *       {@code generation} only when something outside {@code metadata} and {@code status} changed.
 *       {@link #updateStatus} changes only {@code status} and never {@code generation}. An update that changes
 *       nothing writes nothing and keeps the resourceVersion.</li>
 *   <li>{@link #delete} of an object with finalizers sets {@code deletionTimestamp} (and increments
 *       {@code generation}) and keeps it; the update that removes its last finalizer deletes it. No finalizer
 *       can be added to an object being deleted.</li>
 *   <li>Invalid objects (no name, names that break the Kubernetes naming rules, invalid labels, finalizers or
 *       owner references) fail with 422 Invalid; an object of another kind or apiVersion with 400 BadRequest;
 *       nothing is written in either case.</li>
 * </ul>
 * Errors are fabric8's {@link KubernetesClientException} with the HTTP code and a {@code Status} whose reason
 * is {@code AlreadyExists}, {@code Conflict}, {@code NotFound}, {@code Invalid} or {@code BadRequest}, the same
 * as a real Kubernetes API gives, so controller code handles both alike. Failures to reach the store are
 * {@link io.dkv.client.DkvException}s.
 *
 * <pre>{@code
 * ResourceClient<ConfigMap> configMaps = resources.resources(ConfigMap.class);
 * ConfigMap cm = configMaps.create(new ConfigMapBuilder()
 *     .withNewMetadata().withNamespace("shop").withName("settings").endMetadata()
 *     .addToData("mode", "fast").build());
 * cm.getData().put("mode", "safe");
 * try {
 *   cm = configMaps.update(cm);            // fails with 409 if someone else wrote since we read
 * } catch (KubernetesClientException e) {
 *   if (e.getCode() != 409) throw e;       // read again and retry
 * }
 * }</pre>
 *
 * @param <T> the object type: a fabric8 model class, a custom resource class or
 *            {@link io.fabric8.kubernetes.api.model.GenericKubernetesResource}
 */
public interface ResourceClient<T extends HasMetadata> {

  /** The kind of the objects, like {@code ConfigMap}. */
  String kind();

  /** The {@code group/version} (or just {@code version} for the core group), like {@code apps/v1}. */
  String apiVersion();

  /** Whether objects of this kind live in namespaces. */
  boolean namespaced();

  /**
   * Creates {@code object}. A missing kind and apiVersion are filled in; {@code metadata.generateName} gives a
   * name with a random suffix when the name is empty. Any {@code status}, {@code resourceVersion},
   * {@code uid}, {@code deletionTimestamp} given are ignored (status is written only by {@link #updateStatus}).
   *
   * @return the stored object, with its uid, creationTimestamp, generation and resourceVersion
   * @throws KubernetesClientException 409 AlreadyExists, 422 Invalid or 400 BadRequest
   */
  T create(T object);

  /**
   * The object, if it exists; {@code namespace} is ignored (may be null) for cluster-scoped kinds.
   *
   * @throws IllegalArgumentException if the name is empty or the kind is namespaced and no namespace is given
   *                                  (the same holds for {@link #delete})
   */
  Optional<T> get(String namespace, String name);

  /** The objects in {@code namespace} (null: in every namespace), in key order (namespace, then name). */
  List<T> list(String namespace);

  /**
   * The objects in {@code namespace} (null: every namespace) whose labels match {@code selector}
   * ({@code matchLabels} and {@code matchExpressions} with In, NotIn, Exists, DoesNotExist).
   */
  List<T> list(String namespace, LabelSelector selector);

  /** The objects in {@code namespace} (null: every namespace) that carry all {@code labels}. */
  List<T> list(String namespace, Map<String, String> labels);

  /**
   * Replaces the object's metadata (except the server-managed fields) and spec, keeping its status.
   * {@code metadata.resourceVersion} must be set: it is the precondition.
   *
   * @return the stored object with its new resourceVersion (the deleted object's last state when this update
   *         removed the last finalizer of an object being deleted)
   * @throws KubernetesClientException 409 Conflict when the resourceVersion is stale, 404 NotFound, 422 Invalid
   *                                   (also when the resourceVersion is missing) or 400 BadRequest
   */
  T update(T object);

  /**
   * Replaces only the object's {@code status} with that of {@code object}; metadata and spec of {@code object}
   * are ignored, generation stays. {@code metadata.resourceVersion} must be set: it is the precondition.
   *
   * @throws KubernetesClientException 409 Conflict, 404 NotFound, 422 Invalid or 400 BadRequest
   */
  T updateStatus(T object);

  /**
   * Deletes the object, or marks it for deletion ({@code deletionTimestamp}) when it has finalizers.
   *
   * @return false if it did not exist, true otherwise (also when it was already being deleted)
   */
  boolean delete(String namespace, String name);

  /**
   * Deletes (or marks for deletion) the object only if its resourceVersion is still {@code resourceVersion}.
   *
   * @return false if it did not exist
   * @throws KubernetesClientException 409 Conflict when the object changed since {@code resourceVersion}
   */
  boolean delete(String namespace, String name, String resourceVersion);

  /**
   * A source for an informer: the objects in {@code namespace} (null: every namespace) whose labels match
   * {@code selector} (null: all). Cache keys are {@code namespace/name} (just {@code name} for cluster-scoped
   * kinds), revisions are the mod revisions; an object whose labels stop matching is reported deleted.
   */
  ListerWatcher<T> listerWatcher(String namespace, LabelSelector selector);

}
