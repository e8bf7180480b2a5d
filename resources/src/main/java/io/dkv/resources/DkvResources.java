package io.dkv.resources;

import io.dkv.client.DkvClient;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Kubernetes-style resources stored in DKV or etcd: the entry point that hands out a {@link ResourceClient}
 * per kind. All clients of one {@code DkvResources} share its key prefix (default {@code /registry}), so every
 * object lives under {@code /registry/<group>/<plural>/<namespace>/<name>}. Thread-safe; it does not own the
 * {@link DkvClient}, which the caller closes.
 *
 * <pre>{@code
 * DkvResources resources = DkvResources.create(dkvClient);
 * ResourceClient<ConfigMap> configMaps = resources.resources(ConfigMap.class);
 * ResourceClient<MyApp> apps = resources.resources(MyApp.class);          // a fabric8 CustomResource class
 * ResourceClient<GenericKubernetesResource> widgets = resources.genericResources(
 *     new ResourceDefinitionContext.Builder().withGroup("example.com").withVersion("v1")
 *         .withKind("Widget").withPlural("widgets").withNamespaced(true).build());
 * }</pre>
 */
public final class DkvResources {
  private final DkvClient client;
  private final String prefix;
  private final Clock clock;
  private final ObjectStore store;
  private final Json json = new Json();

  private DkvResources(Builder b) {
    this.client = b.client;
    this.prefix = b.prefix;
    this.clock = b.clock;
    this.store = new ObjectStore(client, json, b.requestTimeout);
  }

  /** Resources under {@code /registry} with the default options. */
  public static DkvResources create(DkvClient client) {
    return builder(client).build();
  }

  /** A builder for resources with options. */
  public static Builder builder(DkvClient client) {
    return new Builder(client);
  }

  /**
   * The objects of a fabric8 model class: a built-in one ({@code ConfigMap.class}) or a custom resource class
   * annotated with {@code @Group} and {@code @Version}. Scope comes from {@code Namespaced}, plural from
   * {@code @Plural} or the kind.
   */
  public <T extends HasMetadata> ResourceClient<T> resources(Class<T> type) {
    Objects.requireNonNull(type, "type");
    if (type == GenericKubernetesResource.class) {
      throw new IllegalArgumentException("GenericKubernetesResource has no kind: use genericResources(context)");
    }
    ResourceDefinitionContext context;
    try {
      context = ResourceDefinitionContext.fromResourceType(type);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(type.getName() + " is not a Kubernetes resource class (it needs "
          + "@Group and @Version, or to be a fabric8 model class): " + e.getMessage(), e);
    }
    return new StoredResourceClient<>(ResourceType.of(context), type, prefix, store, json, clock);
  }

  /** The objects of the kind {@code context} describes (group, version, kind, plural, scope), untyped. */
  public ResourceClient<GenericKubernetesResource> genericResources(ResourceDefinitionContext context) {
    return new StoredResourceClient<>(ResourceType.of(context), GenericKubernetesResource.class, prefix, store,
        json, clock);
  }

  /**
   * A new, not yet started, garbage collector over every kind under this prefix; see {@link GarbageCollector}.
   */
  public GarbageCollector garbageCollector() {
    return new OwnerGarbageCollector(prefix, store, json, clock);
  }

  /** The key prefix of all resources, like {@code /registry}. */
  public String prefix() {
    return prefix;
  }

  /** The client the resources are stored through. */
  public DkvClient client() {
    return client;
  }

  /**
   * Options of {@link DkvResources}.
   *
   * <pre>{@code
   * DkvResources r = DkvResources.builder(client).prefix("/tenants/a/registry").build();
   * }</pre>
   */
  public static final class Builder {
    private final DkvClient client;
    private String prefix = "/registry";
    private Clock clock = Clock.systemUTC();
    private Duration requestTimeout = Duration.ofSeconds(30);

    private Builder(DkvClient client) {
      this.client = Objects.requireNonNull(client, "client");
    }

    /** The key prefix (default {@code /registry}); starts with {@code /}, no trailing {@code /}. */
    public Builder prefix(String prefix) {
      Objects.requireNonNull(prefix, "prefix");
      if (!prefix.startsWith("/") || prefix.endsWith("/") || prefix.contains("//")) {
        throw new IllegalArgumentException("prefix must start with '/', have no empty segment and not end with '/',"
            + " got \"" + prefix + "\"");
      }
      this.prefix = prefix;
      return this;
    }

    /** The clock of creationTimestamp and deletionTimestamp (default: the system clock, UTC). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How long one read or write of the store may take (default 30 s); the lists of its informer sources wait the
     * {@link DkvClient}'s own request timeout.
     */
    public Builder requestTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be positive, got " + timeout);
      }
      this.requestTimeout = timeout;
      return this;
    }

    public DkvResources build() {
      return new DkvResources(this);
    }
  }
}
