package io.dkv.informer;

import io.dkv.testing.MockKubernetes;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ConfigMapListBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes source against fabric8's mock server answering scripted responses: paging, bookmarks and
 * 410 Gone, which the CRUD mode does not produce.
 */
class KubernetesListerWatcherExpectationsTest {

  private static final String PATH = "/api/v1/namespaces/ns1/configmaps";

  private KubernetesMockServer server;
  private KubernetesClient client;
  private ListerWatcher<ConfigMap> source;

  @BeforeEach
  void start() {
    server = MockKubernetes.expectations();
    client = server.createClient();
    source = ListerWatchers.kubernetes(client, ConfigMap.class, "ns1");
  }

  @AfterEach
  void stop() {
    client.close();
    server.destroy();
  }

  private static ConfigMap map(String name, String resourceVersion) {
    return new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace("ns1")
        .withResourceVersion(resourceVersion).endMetadata().build();
  }

  @Test
  void paginatesWithLimitAndContinueAtOneResourceVersion() {
    server.expect().get().withPath(PATH + "?limit=2").andReturn(200, new ConfigMapListBuilder()
        .withNewMetadata().withResourceVersion("40").withContinue("token-1").endMetadata()
        .withItems(map("a", "11"), map("b", "12")).build()).once();
    server.expect().get().withPath(PATH + "?continue=token-1&limit=2").andReturn(200, new ConfigMapListBuilder()
        .withNewMetadata().withResourceVersion("40").endMetadata()
        .withItems(map("c", "13")).build()).once();

    Page<ConfigMap> first = source.list(0, null, 2);
    assertEquals(List.of("ns1/a", "ns1/b"), first.items().stream().map(Item::key).toList());
    assertEquals(List.of(11L, 12L), first.items().stream().map(Item::revision).toList());
    assertEquals(40, first.revision());
    assertTrue(first.hasMore());

    Page<ConfigMap> second = source.list(first.revision(), first.continueFrom(), 2);
    assertEquals(List.of("ns1/c"), second.items().stream().map(Item::key).toList());
    assertEquals(40, second.revision());
    assertFalse(second.hasMore());
  }

  @Test
  void listsAtAnExactRevisionWhenAsked() {
    server.expect().get().withPath(PATH + "?limit=2&resourceVersion=40&resourceVersionMatch=Exact")
        .andReturn(200, new ConfigMapListBuilder().withNewMetadata().withResourceVersion("40").endMetadata()
            .withItems(map("a", "11")).build()).once();
    server.expect().get().withPath(PATH + "?limit=2&resourceVersion=41&resourceVersionMatch=Exact")
        .andReturn(200, new ConfigMapListBuilder().withNewMetadata().withResourceVersion("45").endMetadata()
            .build()).once();

    Page<ConfigMap> page = source.list(40, null, 2);
    assertEquals(40, page.revision());
    assertEquals(List.of("ns1/a"), page.items().stream().map(Item::key).toList());

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> source.list(41, null, 2));
    assertTrue(e.getMessage().contains("41") && e.getMessage().contains("45"), e.getMessage());
  }

  @Test
  void expiredContinueTokenIsHistoryGone() {
    server.expect().get().withPath(PATH + "?continue=old-token&limit=2").andReturn(410, new StatusBuilder()
        .withCode(410).withReason("Expired").withStatus("Failure")
        .withMessage("The provided continue parameter is too old to display a consistent list result.").build())
        .once();

    HistoryGoneException e = assertThrows(HistoryGoneException.class, () -> source.list(40, "old-token", 2));
    assertTrue(e.getMessage().contains("too old"), e.getMessage());
  }

  @Test
  void otherListFailuresAreNotHistoryGone() {
    server.expect().get().withPath(PATH + "?limit=2").andReturn(403, new StatusBuilder()
        .withCode(403).withReason("Forbidden").withStatus("Failure").withMessage("no").build()).once();

    RuntimeException e = assertThrows(RuntimeException.class, () -> source.list(0, null, 2));
    assertFalse(e instanceof HistoryGoneException, e.toString());
  }

  @Test
  void nonNumericResourceVersionFailsClearly() {
    server.expect().get().withPath(PATH + "?limit=2").andReturn(200, new ConfigMapListBuilder()
        .withNewMetadata().withResourceVersion("abc").endMetadata().build()).once();

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> source.list(0, null, 2));
    assertTrue(e.getMessage().contains("'abc'") && e.getMessage().contains("not a number"), e.getMessage());
  }

  // emits of one scripted socket are timed from its opening, so they are spaced to keep their order

  @Test
  void watchAsksForBookmarksFromTheRevisionAndDeliversThem() throws Exception {
    server.expect().withPath(PATH + "?allowWatchBookmarks=true&resourceVersion=40&watch=true")
        .andUpgradeToWebSocket().open()
        .waitFor(50).andEmit(new WatchEvent(map("a", "41"), "ADDED"))
        .waitFor(100).andEmit(new WatchEvent(new ConfigMapBuilder().withNewMetadata().withResourceVersion("45")
            .endMetadata().build(), "BOOKMARK"))
        .waitFor(150).andEmit(new WatchEvent(map("a", "46"), "MODIFIED"))
        .done().once();

    List<Event<ConfigMap>> events = new CopyOnWriteArrayList<>();
    KubernetesListerWatcherCrudTest.RecordingSink sink = new KubernetesListerWatcherCrudTest.RecordingSink(events);
    try (AutoCloseable watch = source.watch(40, sink)) {
      await().until(() -> events.size() >= 3);
      assertEquals(new Event<>(Event.Type.ADDED, "ns1/a", events.get(0).object(), 41), events.get(0));
      assertEquals(Event.bookmark(45), events.get(1));
      assertEquals(Event.Type.MODIFIED, events.get(2).type());
      assertEquals(46, events.get(2).revision());
    }
  }

  @Test
  void goneErrorEventClosesWithHistoryGone() {
    server.expect().withPath(PATH + "?allowWatchBookmarks=true&resourceVersion=40&watch=true")
        .andUpgradeToWebSocket().open()
        .waitFor(50).andEmit(new WatchEvent(map("a", "41"), "ADDED"))
        .waitFor(100).andEmit(new WatchEvent(new StatusBuilder().withCode(410).withReason("Expired")
            .withStatus("Failure").withMessage("too old resource version: 40 (50)").build(), "ERROR"))
        .done().once();

    List<Event<ConfigMap>> events = new CopyOnWriteArrayList<>();
    KubernetesListerWatcherCrudTest.RecordingSink sink = new KubernetesListerWatcherCrudTest.RecordingSink(events);
    source.watch(40, sink);

    await().until(() -> sink.closedCalls > 0);
    assertEquals(1, events.size());
    HistoryGoneException gone = assertInstanceOf(HistoryGoneException.class, sink.cause);
    assertTrue(gone.getMessage().contains("too old resource version"), gone.getMessage());
    assertEquals(1, sink.closedCalls);
  }

  @Test
  void goneHttpStatusOnTheWatchRequestClosesWithHistoryGone() {
    server.expect().withPath(PATH + "?allowWatchBookmarks=true&resourceVersion=40&watch=true")
        .andReturn(410, new StatusBuilder().withCode(410).withReason("Expired").withStatus("Failure")
            .withMessage("too old resource version: 40 (50)").build()).always();

    List<Event<ConfigMap>> events = new CopyOnWriteArrayList<>();
    KubernetesListerWatcherCrudTest.RecordingSink sink = new KubernetesListerWatcherCrudTest.RecordingSink(events);
    source.watch(40, sink);

    await().until(() -> sink.closedCalls > 0);
    assertInstanceOf(HistoryGoneException.class, sink.cause);
    assertTrue(events.isEmpty());
  }

  @Test
  void aRefusedWatchClosesWithATransientCause() {
    server.expect().withPath(PATH + "?allowWatchBookmarks=true&resourceVersion=40&watch=true")
        .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden").withStatus("Failure")
            .withMessage("configmaps is forbidden").build()).always();

    List<Event<ConfigMap>> events = new CopyOnWriteArrayList<>();
    KubernetesListerWatcherCrudTest.RecordingSink sink = new KubernetesListerWatcherCrudTest.RecordingSink(events);
    source.watch(40, sink);

    await().until(() -> sink.closedCalls > 0);
    assertTrue(sink.cause != null && !(sink.cause instanceof HistoryGoneException), String.valueOf(sink.cause));
    assertEquals(1, sink.closedCalls);
  }

  @Test
  void noSinkCallAfterClose() throws Exception {
    server.expect().withPath(PATH + "?allowWatchBookmarks=true&resourceVersion=40&watch=true")
        .andUpgradeToWebSocket().open()
        .waitFor(50).andEmit(new WatchEvent(map("a", "41"), "ADDED"))
        .waitFor(300).andEmit(new WatchEvent(map("a", "42"), "MODIFIED"))
        .done().once();

    List<Event<ConfigMap>> events = new CopyOnWriteArrayList<>();
    java.util.concurrent.CompletableFuture<AutoCloseable> handle = new java.util.concurrent.CompletableFuture<>();
    KubernetesListerWatcherCrudTest.RecordingSink sink = new KubernetesListerWatcherCrudTest.RecordingSink(events) {
      @Override
      public void event(Event<ConfigMap> event) {
        super.event(event);
        try {
          handle.join().close(); // closes inside the first delivery, long before the second event is sent
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    };
    handle.complete(source.watch(40, sink));
    await().until(() -> events.size() >= 1);

    // the mock sends the MODIFIED event 300 ms after opening; it must not reach the sink, nor a closed() call
    await().during(java.time.Duration.ofMillis(600)).atMost(java.time.Duration.ofSeconds(3))
        .until(() -> events.size() == 1 && sink.closedCalls == 0);
    assertNull(sink.cause);
  }
}
