package io.dkv.resources;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import io.dkv.informer.WatchSink;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import io.dkv.controller.Manager;
import io.dkv.informer.Event;
import io.dkv.informer.HistoryGoneException;
import io.dkv.informer.Item;
import io.dkv.informer.ListerWatcher;
import io.dkv.informer.Page;
import java.time.Duration;
import io.dkv.testing.LogCapture;
import io.dkv.testing.ServerTestBase;
import io.dkv.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The ResourceClient contract, run on dkv-server ({@link DkvResourcesTest}) and etcd ({@link EtcdResourcesTest}). */
abstract class ResourcesContract extends ServerTestBase {
  private static final AtomicInteger NAMESPACES = new AtomicInteger();

  /** Resources over the fixture's client. */
  DkvResources resources;

  ResourcesContract(TestServer server) {
    super(server);
  }

  @BeforeAll
  void createResources() {
    resources = DkvResources.create(client);
  }

  /** A namespace no other test uses. */
  static String namespace() {
    return "ns-" + NAMESPACES.incrementAndGet();
  }


  /** Writers and read-modify-write increments per writer of the concurrency test (the same on both servers). */
  static final int WRITERS = 8;

  static final int INCREMENTS_PER_WRITER = 25;

  static final Duration WAIT = Duration.ofSeconds(20);

  static final ResourceDefinitionContext GADGETS = new ResourceDefinitionContext.Builder()
      .withGroup("example.com").withVersion("v1").withKind("Gadget").withPlural("gadgets").withNamespaced(true)
      .build();

  private ResourceClient<ConfigMap> configMaps() {
    return resources.resources(ConfigMap.class);
  }

  private ResourceClient<Widget> widgets() {
    return resources.resources(Widget.class);
  }

  private static ConfigMap configMap(String ns, String name, Map<String, String> data) {
    return new ConfigMapBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
        .withData(data).build();
  }

  private static KubernetesClientException fails(int code, String reason, Executable call) {
    KubernetesClientException e = assertThrows(KubernetesClientException.class, call);
    assertEquals(code, e.getCode(), e.getMessage());
    assertEquals(code, e.getStatus().getCode());
    assertEquals(reason, e.getStatus().getReason(), e.getMessage());
    return e;
  }

  // ------------------------------------------------------------------ CRUD and resourceVersion

  @Test
  void createAssignsIdentityAndStoresUnderTheRegistryKey() {
    String ns = namespace();
    ConfigMap created = configMaps().create(configMap(ns, "settings", Map.of("mode", "fast")));
    assertNotNull(created.getMetadata().getUid());
    assertEquals(1L, created.getMetadata().getGeneration());
    Instant.parse(created.getMetadata().getCreationTimestamp());
    long rv = Long.parseLong(created.getMetadata().getResourceVersion());

    var raw = client.get("/registry/core/configmaps/" + ns + "/settings").orElseThrow();
    assertEquals(rv, raw.modRevision());
    assertTrue(raw.value().contains("\"kind\":\"ConfigMap\""), raw.value());
    assertFalse(raw.value().contains("resourceVersion"), "the resourceVersion is the key's revision, not stored");

    ConfigMap read = configMaps().get(ns, "settings").orElseThrow();
    assertEquals(created, read);
    assertEquals(Map.of("mode", "fast"), read.getData());
    assertEquals("v1", read.getApiVersion());

    KubernetesClientException e = fails(409, "AlreadyExists",
        () -> configMaps().create(configMap(ns, "settings", Map.of("mode", "slow"))));
    assertEquals("configmaps \"settings\" already exists", e.getMessage());
    assertEquals("fast", configMaps().get(ns, "settings").orElseThrow().getData().get("mode"));
    assertTrue(configMaps().get(ns, "absent").isEmpty());
  }

  @Test
  void staleResourceVersionConflictsAndNothingIsOverwritten() {
    String ns = namespace();
    ConfigMap v1 = configMaps().create(configMap(ns, "c", Map.of("k", "1")));
    ConfigMap mine = configMaps().get(ns, "c").orElseThrow();
    ConfigMap theirs = configMaps().get(ns, "c").orElseThrow();

    theirs.getData().put("k", "theirs");
    ConfigMap v2 = configMaps().update(theirs);
    assertTrue(Long.parseLong(v2.getMetadata().getResourceVersion())
        > Long.parseLong(v1.getMetadata().getResourceVersion()));

    mine.getData().put("k", "mine");
    KubernetesClientException e = fails(409, "Conflict", () -> configMaps().update(mine));
    assertTrue(e.getMessage().contains("the object has been modified"), e.getMessage());
    assertEquals("theirs", configMaps().get(ns, "c").orElseThrow().getData().get("k"));

    mine.getMetadata().setResourceVersion(null);
    fails(422, "Invalid", () -> configMaps().update(mine));
    mine.getMetadata().setResourceVersion("not-a-number");
    fails(400, "BadRequest", () -> configMaps().update(mine));

    ConfigMap ghost = configMap(ns, "ghost", Map.of());
    ghost.getMetadata().setResourceVersion(v2.getMetadata().getResourceVersion());
    fails(404, "NotFound", () -> configMaps().update(ghost));

    fails(409, "Conflict", () -> configMaps().delete(ns, "c", v1.getMetadata().getResourceVersion()));
    assertTrue(configMaps().get(ns, "c").isPresent());
    assertTrue(configMaps().delete(ns, "c", v2.getMetadata().getResourceVersion()));
    assertTrue(configMaps().get(ns, "c").isEmpty());
    assertFalse(configMaps().delete(ns, "c"));
  }

  @Test
  void concurrentReadModifyWriteLosesNoUpdate() throws Exception {
    String ns = namespace();
    widgets().create(Widget.of(ns, "counter", 0));
    int writers = WRITERS;
    int increments = INCREMENTS_PER_WRITER;
    AtomicInteger conflicts = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        futures.add(pool.submit(() -> {
          for (int i = 0; i < increments; i++) {
            while (true) {
              Widget current = widgets().get(ns, "counter").orElseThrow();
              current.getSpec().setCount(current.getSpec().getCount() + 1);
              try {
                widgets().update(current);
                break;
              } catch (KubernetesClientException e) {
                assertEquals(409, e.getCode(), e.getMessage());
                conflicts.incrementAndGet();
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(2, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    Widget last = widgets().get(ns, "counter").orElseThrow();
    assertEquals(writers * increments, last.getSpec().getCount(), "conflicts seen: " + conflicts.get());
    assertEquals(1L + writers * increments, last.getMetadata().getGeneration());
  }

  @Test
  void concurrentCreatesOfOneNameHaveExactlyOneWinner() throws Exception {
    String ns = namespace();
    int racers = WRITERS;
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < racers; i++) {
        String value = "racer-" + i;
        results.add(pool.submit(() -> {
          try {
            return configMaps().create(configMap(ns, "contested", Map.of("winner", value))).getMetadata().getUid();
          } catch (KubernetesClientException e) {
            assertEquals("AlreadyExists", e.getStatus().getReason());
            return null;
          }
        }));
      }
      List<String> winners = new ArrayList<>();
      for (Future<String> f : results) {
        String uid = f.get(1, TimeUnit.MINUTES);
        if (uid != null) {
          winners.add(uid);
        }
      }
      assertEquals(1, winners.size(), "exactly one create succeeds");
      assertEquals(winners.get(0), configMaps().get(ns, "contested").orElseThrow().getMetadata().getUid());
    } finally {
      pool.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ spec, status, generation

  @Test
  void updateNeverChangesStatusAndUpdateStatusNeverChangesSpecOrGeneration() {
    String ns = namespace();
    Widget w = Widget.of(ns, "w", 1);
    Widget.Status ignored = new Widget.Status();
    ignored.setPhase("Ignored");
    w.setStatus(ignored);
    Widget created = widgets().create(w);
    assertNull(created.getStatus(), "status is not written by create");
    assertEquals(1L, created.getMetadata().getGeneration());

    // status only, through updateStatus: generation stays, spec given along is ignored
    Widget.Status ready = new Widget.Status();
    ready.setPhase("Ready");
    ready.setObservedGeneration(1L);
    created.setStatus(ready);
    created.getSpec().setCount(99);
    Widget afterStatus = widgets().updateStatus(created);
    assertEquals("Ready", afterStatus.getStatus().getPhase());
    assertEquals(1, afterStatus.getSpec().getCount());
    assertEquals(1L, afterStatus.getMetadata().getGeneration());
    assertNotEquals(created.getMetadata().getResourceVersion(), afterStatus.getMetadata().getResourceVersion());

    // metadata only: no new generation
    afterStatus.getMetadata().setLabels(Map.of("tier", "gold"));
    Widget labelled = widgets().update(afterStatus);
    assertEquals(1L, labelled.getMetadata().getGeneration());
    assertEquals(Map.of("tier", "gold"), labelled.getMetadata().getLabels());

    // spec change: new generation; the status given along is ignored
    labelled.getSpec().setCount(2);
    labelled.getStatus().setPhase("Hacked");
    Widget changed = widgets().update(labelled);
    assertEquals(2L, changed.getMetadata().getGeneration());
    assertEquals(2, changed.getSpec().getCount());
    assertEquals("Ready", changed.getStatus().getPhase());
    assertEquals(changed, widgets().get(ns, "w").orElseThrow());

    // server-managed metadata cannot be overwritten
    String uid = changed.getMetadata().getUid();
    changed.getMetadata().setUid("forged");
    changed.getMetadata().setGeneration(42L);
    changed.getMetadata().setCreationTimestamp("2000-01-01T00:00:00Z");
    Widget same = widgets().update(changed);
    assertEquals(uid, same.getMetadata().getUid());
    assertEquals(2L, same.getMetadata().getGeneration());
    assertEquals(created.getMetadata().getCreationTimestamp(), same.getMetadata().getCreationTimestamp());

    // an update that changes nothing writes nothing
    Widget again = widgets().update(same);
    assertEquals(same.getMetadata().getResourceVersion(), again.getMetadata().getResourceVersion());
    assertEquals(Long.parseLong(same.getMetadata().getResourceVersion()),
        client.get("/registry/test.dkv.io/widgets/" + ns + "/w").orElseThrow().modRevision());

    // a stale status update conflicts like any other
    fails(409, "Conflict", () -> widgets().updateStatus(afterStatus));
  }

  // ------------------------------------------------------------------ finalizers

  @Test
  void finalizersHoldDeletionUntilTheLastIsRemoved() {
    String ns = namespace();
    Widget w = Widget.of(ns, "guarded", 1);
    w.getMetadata().setFinalizers(List.of("test.dkv.io/cleanup", "test.dkv.io/audit"));
    Widget created = widgets().create(w);

    assertTrue(widgets().delete(ns, "guarded"));
    Widget deleting = widgets().get(ns, "guarded").orElseThrow();
    assertNotNull(deleting.getMetadata().getDeletionTimestamp());
    assertTrue(deleting.isMarkedForDeletion());
    assertEquals(2L, deleting.getMetadata().getGeneration());
    assertEquals(created.getMetadata().getUid(), deleting.getMetadata().getUid());

    // deleting again changes nothing
    assertTrue(widgets().delete(ns, "guarded"));
    assertEquals(deleting, widgets().get(ns, "guarded").orElseThrow());

    // no new finalizer on an object being deleted; its deletionTimestamp cannot be cleared
    Widget adding = widgets().get(ns, "guarded").orElseThrow();
    adding.getMetadata().setFinalizers(List.of("test.dkv.io/cleanup", "test.dkv.io/audit", "test.dkv.io/late"));
    KubernetesClientException e = fails(422, "Invalid", () -> widgets().update(adding));
    assertTrue(e.getMessage().contains("no new finalizers"), e.getMessage());
    Widget clearing = widgets().get(ns, "guarded").orElseThrow();
    clearing.getMetadata().setDeletionTimestamp(null);
    clearing.removeFinalizer("test.dkv.io/audit");
    Widget oneLeft = widgets().update(clearing);
    assertEquals(deleting.getMetadata().getDeletionTimestamp(), oneLeft.getMetadata().getDeletionTimestamp());
    assertEquals(List.of("test.dkv.io/cleanup"), oneLeft.getMetadata().getFinalizers());

    // removing the last finalizer deletes it
    oneLeft.removeFinalizer("test.dkv.io/cleanup");
    widgets().update(oneLeft);
    assertTrue(widgets().get(ns, "guarded").isEmpty());
    assertTrue(client.get("/registry/test.dkv.io/widgets/" + ns + "/guarded").isEmpty());
  }

  @Test
  void prefixAndClockOptionsDecideWhereAndWhen() {
    String ns = namespace();
    Instant at = Instant.parse("2030-01-02T03:04:05.678Z");
    DkvResources tenant = DkvResources.builder(client).prefix("/tenants/a/registry")
        .clock(java.time.Clock.fixed(at, java.time.ZoneOffset.UTC)).build();
    ConfigMap cm = configMap(ns, "timed", Map.of());
    cm.getMetadata().setFinalizers(List.of("test.dkv.io/hold"));
    ConfigMap created = tenant.resources(ConfigMap.class).create(cm);
    assertEquals("2030-01-02T03:04:05Z", created.getMetadata().getCreationTimestamp());
    assertTrue(client.get("/tenants/a/registry/core/configmaps/" + ns + "/timed").isPresent());
    assertTrue(configMaps().get(ns, "timed").isEmpty(), "another prefix is another store");
    tenant.resources(ConfigMap.class).delete(ns, "timed");
    assertEquals("2030-01-02T03:04:05Z",
        tenant.resources(ConfigMap.class).get(ns, "timed").orElseThrow().getMetadata().getDeletionTimestamp());
    assertThrows(IllegalArgumentException.class, () -> DkvResources.builder(client).prefix("no-slash"));
  }

  @Test
  void deleteWithoutFinalizersRemovesTheKey() {
    String ns = namespace();
    configMaps().create(configMap(ns, "plain", Map.of()));
    assertTrue(configMaps().delete(ns, "plain"));
    assertTrue(configMaps().get(ns, "plain").isEmpty());
    assertFalse(configMaps().delete(ns, "plain"));
  }

  // ------------------------------------------------------------------ validation

  @Test
  void invalidObjectsAreRejectedAndNothingIsWritten() {
    String ns = namespace();
    KubernetesClientException noName = fails(422, "Invalid",
        () -> configMaps().create(configMap(ns, null, Map.of())));
    assertEquals("metadata.name", noName.getStatus().getDetails().getCauses().get(0).getField());

    KubernetesClientException badName = fails(422, "Invalid",
        () -> configMaps().create(configMap(ns, "Bad_Name", Map.of())));
    assertTrue(badName.getMessage().contains("RFC 1123 subdomain"), badName.getMessage());
    fails(422, "Invalid", () -> configMaps().create(configMap(ns, "a".repeat(254), Map.of())));
    fails(422, "Invalid", () -> configMaps().create(configMap(ns, "-starts-with-dash", Map.of())));
    fails(422, "Invalid", () -> configMaps().create(configMap(null, "no-namespace", Map.of())));
    fails(422, "Invalid", () -> configMaps().create(configMap("Bad.Namespace", "x", Map.of())));

    ConfigMap badLabel = configMap(ns, "labelled", Map.of());
    badLabel.getMetadata().setLabels(Map.of("app", "has space"));
    fails(422, "Invalid", () -> configMaps().create(badLabel));
    ConfigMap badFinalizer = configMap(ns, "finalized", Map.of());
    badFinalizer.getMetadata().setFinalizers(List.of("bad finalizer!"));
    fails(422, "Invalid", () -> configMaps().create(badFinalizer));

    ResourceClient<GenericKubernetesResource> gadgets = resources.genericResources(GADGETS);
    GenericKubernetesResource wrongKind = new GenericKubernetesResourceBuilder().withApiVersion("example.com/v1")
        .withKind("Sprocket").withNewMetadata().withNamespace(ns).withName("g").endMetadata().build();
    KubernetesClientException kind = fails(400, "BadRequest", () -> gadgets.create(wrongKind));
    assertTrue(kind.getMessage().contains("Sprocket"), kind.getMessage());
    wrongKind.setKind("Gadget");
    wrongKind.setApiVersion("example.com/v2");
    fails(400, "BadRequest", () -> gadgets.create(wrongKind));

    assertTrue(client.list("/registry/", io.dkv.client.Codec.string()).stream()
        .noneMatch(v -> v.key().contains("/" + ns + "/")), "nothing of a rejected object is written");
  }

  @Test
  void generateNameGivesAUniqueValidName() {
    String ns = namespace();
    ConfigMap template = new ConfigMapBuilder().withNewMetadata().withNamespace(ns).withGenerateName("job-")
        .endMetadata().build();
    ConfigMap a = configMaps().create(template);
    ConfigMap b = configMaps().create(template);
    assertTrue(a.getMetadata().getName().startsWith("job-"));
    assertNotEquals(a.getMetadata().getName(), b.getMetadata().getName());
    assertEquals(2, configMaps().list(ns).size());
  }

  // ------------------------------------------------------------------ kinds, lists, selectors

  @Test
  void genericResourcesBehaveLikeTypedOnes() {
    String ns = namespace();
    ResourceClient<GenericKubernetesResource> gadgets = resources.genericResources(GADGETS);
    GenericKubernetesResource g = new GenericKubernetesResourceBuilder()
        .withNewMetadata().withNamespace(ns).withName("g1").endMetadata().build();
    g.setAdditionalProperty("spec", Map.of("size", 3));
    GenericKubernetesResource created = gadgets.create(g);
    assertEquals("Gadget", created.getKind());
    assertEquals("example.com/v1", created.getApiVersion());
    assertEquals(3, (Integer) created.get("spec", "size"));
    assertTrue(client.get("/registry/example.com/gadgets/" + ns + "/g1").isPresent());

    created.setAdditionalProperty("spec", Map.of("size", 4));
    GenericKubernetesResource updated = gadgets.update(created);
    assertEquals(2L, updated.getMetadata().getGeneration());
    updated.setAdditionalProperty("status", Map.of("ready", true));
    GenericKubernetesResource withStatus = gadgets.updateStatus(updated);
    assertEquals(true, withStatus.get("status", "ready"));
    assertEquals(2L, withStatus.getMetadata().getGeneration());
  }

  @Test
  void clusterScopedKindsHaveNoNamespaceSegment() {
    ResourceClient<Namespace> namespaces = resources.resources(Namespace.class);
    assertFalse(namespaces.namespaced());
    String name = namespace();
    Namespace created = namespaces.create(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata()
        .build());
    assertNull(created.getMetadata().getNamespace());
    assertTrue(client.get("/registry/core/namespaces/" + name).isPresent());
    assertEquals(created, namespaces.get(null, name).orElseThrow());
    assertTrue(namespaces.list(null).stream().anyMatch(n -> n.getMetadata().getName().equals(name)));
    assertTrue(namespaces.delete(null, name));
  }

  @Test
  void listsByNamespaceAndLabelSelector() {
    String ns1 = namespace();
    String ns2 = namespace();
    for (String ns : List.of(ns1, ns2)) {
      for (String tier : List.of("web", "db", "cache")) {
        ConfigMap cm = configMap(ns, tier, Map.of());
        cm.getMetadata().setLabels(tier.equals("cache") ? Map.of("app", "shop") : Map.of("app", "shop", "tier", tier));
        configMaps().create(cm);
      }
    }
    assertEquals(List.of("cache", "db", "web"), names(configMaps().list(ns1)));
    assertEquals(List.of("db"), names(configMaps().list(ns2, Map.of("tier", "db"))));
    assertEquals(List.of("db", "web"), names(configMaps().list(ns1, new LabelSelectorBuilder()
        .addNewMatchExpression().withKey("tier").withOperator("In").withValues("web", "db").endMatchExpression()
        .build())));
    assertEquals(List.of("cache"), names(configMaps().list(ns1, new LabelSelectorBuilder()
        .addNewMatchExpression().withKey("tier").withOperator("DoesNotExist").endMatchExpression()
        .withMatchLabels(Map.of("app", "shop")).build())));
    assertEquals(List.of("cache", "db"), names(configMaps().list(ns1, new LabelSelectorBuilder()
        .addNewMatchExpression().withKey("tier").withOperator("NotIn").withValues("web").endMatchExpression()
        .build())));
    assertEquals(6, configMaps().list(null, Map.of("app", "shop")).stream()
        .filter(c -> List.of(ns1, ns2).contains(c.getMetadata().getNamespace())).count());
    assertThrows(IllegalArgumentException.class, () -> configMaps().list(ns1, new LabelSelectorBuilder()
        .addNewMatchExpression().withKey("tier").withOperator("Near").endMatchExpression().build()));
  }

  // ------------------------------------------------------------------ informer source

  @Test
  void listerWatcherListsConsistentPagesAtOneRevision() {
    String ns = namespace();
    for (String n : List.of("e", "d", "c", "b", "a")) {
      configMaps().create(configMap(ns, n, Map.of()));
    }
    ListerWatcher<ConfigMap> lw = configMaps().listerWatcher(ns, null);
    Page<ConfigMap> first = lw.list(0, null, 2);
    assertEquals(List.of(ns + "/a", ns + "/b"), first.items().stream().map(Item::key).toList());
    assertTrue(first.hasMore());
    configMaps().create(configMap(ns, "aa", Map.of()));
    configMaps().delete(ns, "e");
    List<String> keys = new ArrayList<>(first.items().stream().map(Item::key).toList());
    Page<ConfigMap> page = first;
    while (page.hasMore()) {
      page = lw.list(first.revision(), page.continueFrom(), 2);
      assertEquals(first.revision(), page.revision());
      page.items().forEach(item -> {
        assertEquals(Long.toString(item.revision()), item.object().getMetadata().getResourceVersion());
        keys.add(item.key());
      });
    }
    assertEquals(List.of("a", "b", "c", "d", "e").stream().map(n -> ns + "/" + n).toList(), keys,
        "every page shows the state of the first one");
    assertEquals(List.of("a", "aa", "b", "c", "d").stream().map(n -> ns + "/" + n).toList(),
        lw.list(0, null, 100).items().stream().map(Item::key).toList());
  }

  @Test
  void listerWatcherWatchesChangesAfterTheRevisionThroughTheSelector() throws Exception {
    String ns = namespace();
    ListerWatcher<ConfigMap> lw = configMaps().listerWatcher(ns, new LabelSelectorBuilder()
        .withMatchLabels(Map.of("app", "shop")).build());
    try (LogCapture log = new LogCapture("io.dkv")) { // objects outside the selector are normal, not errors
      selectorTransitions(ns, lw);
      assertEquals(List.of(), log.events().stream()
          .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
          .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage()).filter(l -> l.contains(ns)).toList(),
          "nothing logged about the objects of this test");
    }
  }

  private void selectorTransitions(String ns, ListerWatcher<ConfigMap> lw) throws Exception {
    ConfigMap before = configMap(ns, "before", Map.of());
    before.getMetadata().setLabels(Map.of("app", "shop"));
    configMaps().create(before);
    Page<ConfigMap> listed = lw.list(0, null, 10);
    assertEquals(List.of(ns + "/before"), listed.items().stream().map(Item::key).toList());

    RecordingSink<ConfigMap> sink = new RecordingSink<>();
    try (AutoCloseable watch = lw.watch(listed.revision(), sink)) {
      ConfigMap a = configMap(ns, "a", Map.of());
      a.getMetadata().setLabels(Map.of("app", "shop"));
      a = configMaps().create(a);                                    // ADDED
      ConfigMap b = configMaps().create(configMap(ns, "b", Map.of())); // not selected: nothing
      a.setData(Map.of("k", "v"));
      a = configMaps().update(a);                                    // MODIFIED
      b.getMetadata().setLabels(Map.of("app", "shop"));
      b = configMaps().update(b);                                    // starts matching: ADDED
      a.getMetadata().setLabels(Map.of("app", "other"));
      configMaps().update(a);                                        // stops matching: DELETED
      configMaps().delete(ns, "b");                                  // DELETED
      configMaps().create(configMap(ns, "c", Map.of()));             // not selected: nothing
      ConfigMap last = configMap(ns, "last", Map.of());
      last.getMetadata().setLabels(Map.of("app", "shop"));
      configMaps().create(last);
      await().atMost(WAIT).until(() -> sink.events.size() >= 6);
      assertEquals(List.of("ADDED " + ns + "/a", "MODIFIED " + ns + "/a", "ADDED " + ns + "/b",
          "DELETED " + ns + "/a", "DELETED " + ns + "/b", "ADDED " + ns + "/last"), sink.summary());
      long previous = listed.revision();
      for (Event<ConfigMap> e : sink.events) {
        assertTrue(e.revision() > previous, "revisions increase");
        previous = e.revision();
        assertEquals(Long.toString(e.revision()), e.object().getMetadata().getResourceVersion());
      }
      assertEquals("shop", sink.events.get(3).object().getMetadata().getLabels().get("app"),
          "an object that stops matching is reported deleted with its last matching state");
      assertEquals(b.getMetadata().getUid(), sink.events.get(4).object().getMetadata().getUid());
    }
    assertFalse(sink.closed.isDone(), "closing the handle does not call the sink");
  }

  @Test
  void listerWatcherCanBeClosedFromItsOwnSinkAndDeliversNothingAfter() throws Exception {
    String ns = namespace();
    ListerWatcher<ConfigMap> lw = configMaps().listerWatcher(ns, null);
    long from = lw.list(0, null, 1).revision();
    AtomicReference<AutoCloseable> handle = new AtomicReference<>();
    List<Event<ConfigMap>> seen = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> closedInside = new CompletableFuture<>();
    handle.set(lw.watch(from, new WatchSink<>() {
      @Override
      public void event(Event<ConfigMap> event) {
        if (event.type() == Event.Type.BOOKMARK) {
          return;
        }
        seen.add(event);
        try {
          handle.get().close();
          closedInside.complete(null);
        } catch (Exception e) {
          closedInside.completeExceptionally(e);
        }
      }

      @Override
      public void closed(Throwable cause) {
        seen.add(new Event<>(Event.Type.DELETED, "closed:" + cause, null, 0));
      }
    }));
    for (String n : List.of("a", "b", "c")) {
      configMaps().create(configMap(ns, n, Map.of()));
    }
    closedInside.get(20, TimeUnit.SECONDS);
    RecordingSink<ConfigMap> witness = new RecordingSink<>();
    try (AutoCloseable second = lw.watch(from, witness)) {
      configMaps().create(configMap(ns, "d", Map.of()));
      await().atMost(WAIT).until(() -> witness.events.size() == 4);
    }
    assertEquals(1, seen.size(), "nothing is delivered after close: " + seen);
  }

  @Test
  void listerWatcherReportsCompactedHistoryAsGone() throws Exception {
    String ns = namespace();
    ListerWatcher<ConfigMap> lw = configMaps().listerWatcher(ns, null);
    ConfigMap cm = configMaps().create(configMap(ns, "x", Map.of()));
    long old = Long.parseLong(cm.getMetadata().getResourceVersion());
    cm.setData(Map.of("k", "v"));
    cm = configMaps().update(cm);
    long latest = Long.parseLong(cm.getMetadata().getResourceVersion());
    client.jetcd().getKVClient().compact(latest).get(10, TimeUnit.SECONDS);

    assertThrows(HistoryGoneException.class, () -> lw.list(old, null, 10));
    RecordingSink<ConfigMap> sink = new RecordingSink<>();
    try (AutoCloseable watch = lw.watch(old - 1, sink)) {
      Throwable cause = sink.closed.get(20, TimeUnit.SECONDS);
      assertTrue(cause instanceof HistoryGoneException, String.valueOf(cause));
    }
    // from the compacted revision on, watching works
    RecordingSink<ConfigMap> resumed = new RecordingSink<>();
    try (AutoCloseable watch = lw.watch(latest, resumed)) {
      configMaps().delete(ns, "x");
      await().atMost(WAIT).until(() -> resumed.events.size() == 1);
      assertEquals(Event.Type.DELETED, resumed.events.get(0).type());
    }
  }

  // ------------------------------------------------------------------ garbage collection

  private static OwnerReference ownedBy(HasMetadata owner) {
    return new OwnerReferenceBuilder().withApiVersion(owner.getApiVersion()).withKind(owner.getKind())
        .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).build();
  }

  private static <T extends HasMetadata> T owned(T dependent, HasMetadata... owners) {
    for (HasMetadata o : owners) {
      dependent.getMetadata().getOwnerReferences().add(ownedBy(o));
    }
    return dependent;
  }

  @Test
  void garbageCollectorDeletesAThreeLevelOwnerChainInCascade() {
    String ns = namespace();
    ResourceClient<GenericKubernetesResource> gadgets = resources.genericResources(GADGETS);
    Widget root = widgets().create(Widget.of(ns, "root", 1));
    ConfigMap middle = configMaps().create(owned(configMap(ns, "middle", Map.of()), root));
    gadgets.create(owned(new GenericKubernetesResourceBuilder()
        .withNewMetadata().withNamespace(ns).withName("leaf").endMetadata().build(), middle));
    ConfigMap keeper = configMaps().create(configMap(ns, "keeper", Map.of()));
    ConfigMap shared = configMaps().create(owned(configMap(ns, "shared", Map.of()), root, keeper));
    ConfigMap unrelated = configMaps().create(configMap(ns, "unrelated", Map.of()));

    try (GarbageCollector gc = resources.garbageCollector().start()) {
      await().atMost(WAIT).until(gc::hasSynced);
      assertTrue(configMaps().get(ns, "middle").isPresent(), "dependents of a live owner stay");
      assertTrue(gadgets.get(ns, "leaf").isPresent());

      assertTrue(widgets().delete(ns, "root"));
      await().atMost(WAIT).until(() -> gadgets.get(ns, "leaf").isEmpty());
      assertTrue(configMaps().get(ns, "middle").isEmpty());
      assertEquals(shared, configMaps().get(ns, "shared").orElseThrow(), "an object with a live owner stays");
      assertEquals(unrelated, configMaps().get(ns, "unrelated").orElseThrow());
      assertTrue(gc.collected() >= 2);

      // the last owner of "shared" goes: it goes too
      configMaps().delete(ns, "keeper");
      await().atMost(WAIT).until(() -> configMaps().get(ns, "shared").isEmpty());
      assertTrue(configMaps().get(ns, "unrelated").isPresent());
    }
  }

  @Test
  void garbageCollectorUnderConcurrentOwnerDeletionsCollectsExactlyTheOrphans() throws Exception {
    String ns = namespace();
    int owners = 30;
    List<String> doomed = new ArrayList<>();
    List<String> kept = new ArrayList<>();
    for (int i = 0; i < owners; i++) {
      ConfigMap owner = configMaps().create(configMap(ns, "owner-" + i, Map.of()));
      for (int d = 0; d < 2; d++) {
        String name = "dep-" + i + "-" + d;
        configMaps().create(owned(configMap(ns, name, Map.of()), owner));
        (i % 2 == 0 ? doomed : kept).add(name);
      }
    }
    try (GarbageCollector gc = resources.garbageCollector().start()) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Boolean>> deletions = new ArrayList<>();
        for (int i = 0; i < owners; i += 2) {
          String owner = "owner-" + i;
          deletions.add(pool.submit(() -> configMaps().delete(ns, owner)));
        }
        for (Future<Boolean> f : deletions) {
          assertTrue(f.get(1, TimeUnit.MINUTES));
        }
      } finally {
        pool.shutdownNow();
      }
      await().atMost(WAIT).until(() -> doomed.stream().allMatch(n -> configMaps().get(ns, n).isEmpty()));
      List<String> left = names(configMaps().list(ns)).stream().filter(n -> n.startsWith("dep-")).toList();
      assertEquals(kept.stream().sorted().toList(), left, "only the dependents of deleted owners are collected");
      assertEquals(owners / 2, configMaps().list(ns).size() - left.size(), "the live owners are untouched");
    }
  }

  @Test
  void garbageCollectorMarksDependentsWithFinalizersAndWaitsForThem() {
    String ns = namespace();
    Widget owner = widgets().create(Widget.of(ns, "owner", 1));
    Widget guarded = Widget.of(ns, "guarded", 1);
    guarded.getMetadata().setFinalizers(List.of("test.dkv.io/cleanup"));
    guarded = widgets().create(owned(guarded, owner));
    configMaps().create(owned(configMap(ns, "grandchild", Map.of()), guarded));

    try (GarbageCollector gc = resources.garbageCollector().start()) {
      await().atMost(WAIT).until(gc::hasSynced);
      widgets().delete(ns, "owner");
      await().atMost(WAIT).until(() -> widgets().get(ns, "guarded").orElseThrow().isMarkedForDeletion());
      assertTrue(configMaps().get(ns, "grandchild").isPresent(), "its owner still exists while it finalizes");

      Widget finalizing = widgets().get(ns, "guarded").orElseThrow();
      finalizing.removeFinalizer("test.dkv.io/cleanup");
      widgets().update(finalizing);
      assertTrue(widgets().get(ns, "guarded").isEmpty());
      await().atMost(WAIT).until(() -> configMaps().get(ns, "grandchild").isEmpty());
    }
  }

  @Test
  void garbageCollectorCollectsOrphansFoundAtStartAndRespectsNamespaces() {
    String ns = namespace();
    String otherNs = namespace();
    ConfigMap owner = configMaps().create(configMap(ns, "owner", Map.of()));
    configMaps().create(owned(configMap(ns, "orphan", Map.of()), owner));
    configMaps().delete(ns, "owner"); // no collector runs yet
    configMaps().create(owned(configMap(otherNs, "cross", Map.of()),
        configMaps().create(configMap(ns, "elsewhere", Map.of()))));
    Namespace clusterOwner = resources.resources(Namespace.class).create(new NamespaceBuilder()
        .withNewMetadata().withName(otherNs).endMetadata().build());
    ConfigMap ownedByClusterScoped = configMaps().create(owned(configMap(otherNs, "by-cluster", Map.of()),
        clusterOwner));

    GarbageCollector gc = resources.garbageCollector();
    try (Manager manager = Manager.builder().build()) { // under an application's own manager
      manager.add(gc.controller());
      manager.start();
      assertTrue(gc.hasSynced());
      await().atMost(WAIT).until(() -> configMaps().get(ns, "orphan").isEmpty()
          && configMaps().get(otherNs, "cross").isEmpty());
      assertEquals(ownedByClusterScoped, configMaps().get(otherNs, "by-cluster").orElseThrow(),
          "a cluster-scoped owner owns across namespaces");
      resources.resources(Namespace.class).delete(null, otherNs);
      await().atMost(WAIT).until(() -> configMaps().get(otherNs, "by-cluster").isEmpty());
    }
  }

  private static List<String> names(List<ConfigMap> list) {
    return list.stream().map(c -> c.getMetadata().getName()).toList();
  }
}
