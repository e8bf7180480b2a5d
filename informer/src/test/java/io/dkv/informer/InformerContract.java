package io.dkv.informer;

import io.dkv.testing.TcpProxy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.testing.TestServer;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The informer over the etcd source against one server (dkv-server or etcd): the cache converges to the server's
 * state, compared at the same revision, and every handler's states per key are an ordered subsequence of the
 * writes, under concurrent writes and deletes, compactions and disconnects (a proxy between the informer's client
 * and the server cuts its connections).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class InformerContract {

  private static final AtomicInteger IDS = new AtomicInteger();

  private final TestServer kind;
  private TestServer.Running server;
  protected DkvClient writer;
  protected TcpProxy proxy;
  protected DkvClient informerClient;

  InformerContract(TestServer kind) {
    this.kind = kind;
  }

  @BeforeAll
  void startAll(@TempDir Path tmp) throws Exception {
    server = kind.start(tmp.resolve("server"));
    writer = DkvClient.connect(server.endpoint());
    proxy = new TcpProxy(URI.create(server.endpoint()).getPort());
    informerClient = DkvClient.builder().endpoints(proxy.endpoint()).connectTimeout(Duration.ofSeconds(2)).build();
  }

  @AfterAll
  void stopAll() {
    try {
      informerClient.close();
      writer.close();
      proxy.close();
    } finally {
      server.close();
    }
  }

  static String unique(String name) {
    return "/" + name + IDS.incrementAndGet() + "/";
  }

  InformerBuilder<Versioned<String>> informer(String prefix) {
    return SharedIndexInformer.builder(ListerWatchers.etcd(informerClient, prefix, Codec.string()))
        .pageSize(7)
        .backoff(Duration.ofMillis(20), Duration.ofMillis(500))
        .watchSilenceTimeout(Duration.ofSeconds(3)) // a stream that died silently under a cut is reopened soon
        .meterRegistry(new SimpleMeterRegistry());
  }

  // ---------------------------------------------------------------- the server's side

  /** The server's keys and values under {@code prefix} at {@code revision}. */
  Map<String, String> serverAt(String prefix, long revision) throws Exception {
    ByteSequence p = ByteSequence.from(prefix, StandardCharsets.UTF_8);
    List<KeyValue> kvs = writer.jetcd().getKVClient()
        .get(p, GetOption.builder().isPrefix(true).withRevision(revision).build()).get().getKvs();
    Map<String, String> out = new TreeMap<>();
    for (KeyValue kv : kvs) {
      out.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().toString(StandardCharsets.UTF_8));
    }
    return out;
  }

  /** Per key under {@code prefix} at {@code revision}: key, create and mod revision, version, lease. */
  Map<String, List<Long>> metadataAt(String prefix, long revision) throws Exception {
    ByteSequence p = ByteSequence.from(prefix, StandardCharsets.UTF_8);
    Map<String, List<Long>> out = new TreeMap<>();
    for (KeyValue kv : writer.jetcd().getKVClient()
        .get(p, GetOption.builder().isPrefix(true).withRevision(revision).build()).get().getKvs()) {
      out.put(kv.getKey().toString(StandardCharsets.UTF_8),
          List.of(kv.getCreateRevision(), kv.getModRevision(), kv.getVersion(), kv.getLease()));
    }
    return out;
  }

  /** The same of every cached object, keyed by the key the object itself carries. */
  static Map<String, List<Long>> metadataOf(SharedIndexInformer<Versioned<String>> informer) {
    Map<String, List<Long>> out = new TreeMap<>();
    for (Versioned<String> v : informer.lister().list()) {
      out.put(v.key(), List.of(v.createRevision(), v.modRevision(), v.version(), v.lease()));
    }
    return out;
  }

  long serverRevision() throws Exception {
    return writer.jetcd().getKVClient().get(ByteSequence.from("/", StandardCharsets.UTF_8)).get().getHeader()
        .getRevision();
  }

  void compact(long revision) throws Exception {
    writer.jetcd().getKVClient().compact(revision).get();
  }

  /** The cache as key -> value, once it reached {@code revision}; read when nothing is written any more. */
  static Map<String, String> cacheOf(SharedIndexInformer<Versioned<String>> informer) {
    Map<String, String> out = new TreeMap<>();
    for (Versioned<String> v : informer.lister().list()) {
      out.put(v.key(), v.value());
    }
    return out;
  }

  /** Converts a cache (key -> "key|payload") to the server's form: the etcd key is the first part. */
  void assertConverged(String prefix, SharedIndexInformer<Versioned<String>> informer, long lastWrite, Recorder... handlers)
      throws Exception {
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> informer.lister().revision() >= lastWrite);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("cache at " + informer.lister().revision() + ", server at " + lastWrite
          + ", watching: " + informer.isWatching(), e);
    }
    long at = informer.lister().revision();
    Map<String, String> server = serverAt(prefix, at);
    Map<String, String> cache = new TreeMap<>();
    for (String key : informer.lister().keys()) {
      cache.put(key, informer.lister().get(key).orElseThrow().value());
    }
    assertEquals(server, cache, "cache and server at revision " + at);
    assertEquals(metadataAt(prefix, at), metadataOf(informer), "keys and revisions each cached object carries");
    for (Recorder r : handlers) {
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(server, r.current()));
      assertEquals(List.of(), r.violations());
    }
  }

  // ---------------------------------------------------------------- tests

  @Test
  void listsThenWatchesAndConverges() throws Exception {
    String prefix = unique("basic");
    for (int i = 0; i < 20; i++) {
      writer.put(prefix + "k" + i, prefix + "k" + i + "|v0");
    }
    writer.put(unique("other") + "x", "outside the prefix");
    Recorder handler = new Recorder();
    try (SharedIndexInformer<Versioned<String>> informer = informer(prefix).build()) {
      HandlerRegistration reg = informer.addEventHandler(handler.values());
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.hasSynced() && reg.hasSynced());
      assertEquals(20, handler.initialAdds.get());
      assertEquals(20, informer.lister().list().size());
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);

      writer.put(prefix + "k1", prefix + "k1|v1");
      writer.delete(prefix + "k2");
      long last = writer.put(prefix + "k20", prefix + "k20|v1");
      assertConverged(prefix, informer, last, handler);
      assertEquals(20, handler.initialAdds.get(), "later additions are not initial");
      assertTrue(informer.audit().clean());
    }
  }

  @Test
  void convergesUnderConcurrentWritesDeletesCompactionsAndDisconnects() throws Exception {
    String prefix = unique("chaos");
    int writers = 2;
    int keysPerWriter = 12;
    Map<String, List<String>> history = new ConcurrentHashMap<>();
    for (int w = 0; w < writers; w++) {
      for (int k = 0; k < keysPerWriter; k++) {
        String key = prefix + "w" + w + "k" + k;
        String value = key + "|init";
        writer.put(key, value);
        history.put(key, new ArrayList<>(List.of(value)));
      }
    }
    Recorder fast = new Recorder();
    Recorder slow = new Recorder() {
      @Override
      public void onUpdate(String before, String after) {
        LockSupport.parkNanos(2_000_000); // a handler that does real work per update
        super.onUpdate(before, after);
      }
    };
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (SharedIndexInformer<Versioned<String>> informer = informer(prefix).meterRegistry(meters).name("chaos").build()) {
      informer.addEventHandler(fast.values());
      informer.addEventHandler(slow.values());
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(informer::hasSynced);

      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> threads = new ArrayList<>();
      AtomicInteger writes = new AtomicInteger();
      try {
      for (int w = 0; w < writers; w++) {
        int id = w;
        Thread t = new Thread(() -> write(writer, prefix, id, keysPerWriter, history, writes, stop), "writer-" + w);
        threads.add(t);
        t.start();
      }
      // disconnects while writing
      for (int round = 0; round < 3; round++) {
        int before = writes.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> writes.get() >= before + 40);
        proxy.dropConnections();
      }
      // a compaction while the informer is away: it must relist
      long relistsBefore = (long) meters.get("informer.relists").counter().count();
      proxy.pause();
      int before = writes.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> writes.get() >= before + 40);
      compact(serverRevision());
      proxy.resume();
      await().atMost(Duration.ofSeconds(60))
          .until(() -> meters.get("informer.relists").counter().count() > relistsBefore);
      // a compaction while it watches: nothing to do for it
      int again = writes.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> writes.get() >= again + 40);
      compact(serverRevision());
      int more = writes.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> writes.get() >= more + 40);
      } finally {
        stop.set(true);
        proxy.resume();
        for (Thread t : threads) {
          t.join();
        }
      }
      long last = serverRevision();
      assertConverged(prefix, informer, last, fast, slow);
      assertEquals(List.of(), fast.notSubsequenceOf(history));
      assertEquals(List.of(), slow.notSubsequenceOf(history));
      AuditReport audit = informer.audit();
      assertTrue(audit.clean(), audit.toString());
      assertTrue(meters.get("informer.events").tag("type", "MODIFIED").counter().count() > 0);
    }
  }

  /** Writes (or deletes) its own keys in order, so each key's history is its program order. */
  static void write(DkvClient writer, String prefix, int id, int keys, Map<String, List<String>> history,
      AtomicInteger writes, AtomicBoolean stop) {
    Random random = new Random(id);
    for (int i = 0; !stop.get(); i++) {
      String key = prefix + "w" + id + "k" + random.nextInt(keys);
      boolean delete = random.nextInt(5) == 0;
      String value = delete ? null : key + "|" + i;
      history.get(key).add(value); // before the write: a write that fails may still have been applied
      try {
        if (delete) {
          writer.delete(key);
        } else {
          writer.put(key, value);
        }
        writes.incrementAndGet(); // acknowledged writes only: while no server answers, writes fail at once
      } catch (RuntimeException unknownOutcome) {
        // the outcome is unknown; the history allows both
      }
    }
  }

  @Test
  void relistAfterCompactionDeliversOnlyTrueDeltas() throws Exception {
    String prefix = unique("relist");
    for (int i = 0; i < 10; i++) {
      writer.put(prefix + "k" + i, prefix + "k" + i + "|v0");
    }
    Recorder handler = new Recorder();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (SharedIndexInformer<Versioned<String>> informer = informer(prefix).meterRegistry(meters).build()) {
      informer.addEventHandler(handler.values());
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.hasSynced() && informer.isWatching());
      await().atMost(Duration.ofSeconds(30)).until(() -> handler.total.get() == 10);
      handler.clearCalls();

      proxy.pause();
      writer.put(prefix + "k1", prefix + "k1|v1");
      writer.delete(prefix + "k2");
      writer.put(prefix + "k10", prefix + "k10|v1");
      writer.put(prefix + "k3", prefix + "k3|v1");
      writer.put(prefix + "k3", prefix + "k3|v0"); // back to the same value, at a new revision
      long last = writer.put(prefix + "k4", prefix + "k4|v1");
      writer.delete(prefix + "k4");
      compact(serverRevision());
      proxy.resume();

      await().atMost(Duration.ofSeconds(60)).until(() -> meters.get("informer.relists").counter().count() >= 1);
      assertConverged(prefix, informer, last, handler);
      List<Recorder.Call> calls = handler.calls();
      assertEquals(5, calls.size(), calls.toString());
      assertTrue(calls.contains(new Recorder.Call("delete", prefix + "k4|v0", null, true)), calls::toString);
      assertTrue(calls.contains(new Recorder.Call("update", prefix + "k1|v0", prefix + "k1|v1", false)), calls::toString);
      assertTrue(calls.contains(new Recorder.Call("delete", prefix + "k2|v0", null, true)), calls::toString);
      assertTrue(calls.contains(new Recorder.Call("add", null, prefix + "k10|v1", false)), calls::toString);
      assertTrue(calls.contains(new Recorder.Call("update", prefix + "k3|v0", prefix + "k3|v0", false)),
          calls::toString);
    }
  }

  @Test
  void listPagesShowOneRevisionWhileTheServerChanges() throws Exception {
    String prefix = unique("pages");
    for (int i = 0; i < 25; i++) {
      writer.put(prefix + "k" + (10 + i), "v0");
    }
    ListerWatcher<Versioned<String>> source = ListerWatchers.etcd(informerClient, prefix, Codec.string());
    Page<Versioned<String>> first = source.list(0, null, 10);
    long at = first.revision();
    writer.delete(prefix + "k30");
    writer.put(prefix + "k31", "v1");
    writer.put(prefix + "k99", "v1");
    List<Item<Versioned<String>>> all = new ArrayList<>(first.items());
    Page<Versioned<String>> page = first;
    while (page.hasMore()) {
      page = source.list(at, page.continueFrom(), 10);
      assertEquals(at, page.revision());
      all.addAll(page.items());
    }
    Map<String, String> listed = new TreeMap<>();
    all.forEach(i -> listed.put(i.key(), i.object().value()));
    all.forEach(i -> assertEquals(i.key(), i.object().key()));
    assertEquals(serverAt(prefix, at), listed);
    assertEquals(25, all.size());

    List<String> keys = new ArrayList<>();
    Page<Long> revisions = source.listRevisions(0, null, 7);
    keys.addAll(revisions.items().stream().map(Item::key).toList());
    while (revisions.hasMore()) {
      revisions = source.listRevisions(revisions.revision(), revisions.continueFrom(), 7);
      revisions.items().forEach(i -> assertEquals(i.revision(), (long) i.object()));
      keys.addAll(revisions.items().stream().map(Item::key).toList());
    }
    assertEquals(List.copyOf(serverAt(prefix, revisions.revision()).keySet()), keys);
  }

  @Test
  void listingACompactedRevisionSaysTheHistoryIsGone() throws Exception {
    String prefix = unique("gone");
    long old = writer.put(prefix + "a", "v0");
    writer.put(prefix + "a", "v1");
    compact(writer.put(prefix + "a", "v2"));
    ListerWatcher<Versioned<String>> source = ListerWatchers.etcd(informerClient, prefix, Codec.string());
    assertThrows(HistoryGoneException.class, () -> source.list(old, null, 10));
  }

  @Test
  void undecodableValuesAreLeftOutAndTheInformerGoesOn() throws Exception {
    String prefix = unique("decode");
    Codec<String> strict = new Codec<>() {
      @Override
      public byte[] encode(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8);
        if (s.contains("bad")) {
          throw new IllegalArgumentException("not a valid value: " + s);
        }
        return s;
      }
    };
    writer.put(prefix + "a", prefix + "a|good");
    writer.put(prefix + "b", prefix + "b|bad");
    try (SharedIndexInformer<Versioned<String>> informer = SharedIndexInformer.builder(
        ListerWatchers.etcd(informerClient, prefix, strict)).meterRegistry(new SimpleMeterRegistry()).build()) {
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.hasSynced() && informer.isWatching());
      assertEquals(Set.of(prefix + "a"), informer.lister().keys());
      writer.put(prefix + "a", prefix + "a|bad");
      long last = writer.put(prefix + "b", prefix + "b|good");
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().revision() >= last);
      assertEquals(Set.of(prefix + "b"), informer.lister().keys(), "a stale value is not kept");
      assertTrue(informer.isWatching());
      assertTrue(informer.audit().clean(), "left out on purpose, not drift");
      long fixed = writer.put(prefix + "a", prefix + "a|good again");
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().revision() >= fixed);
      assertEquals(Set.of(prefix + "a", prefix + "b"), informer.lister().keys());
    }
  }

  @Test
  void anIdleWatchAnswersProgressRequestsAndIsNotReopened() throws Exception {
    String prefix = unique("idle");
    writer.put(prefix + "a", prefix + "a|0");
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (SharedIndexInformer<Versioned<String>> informer = informer(prefix).meterRegistry(meters)
        .watchSilenceTimeout(Duration.ofMillis(800)).build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      await().atMost(Duration.ofSeconds(30))
          .until(() -> meters.get("informer.events").tag("type", "BOOKMARK").counter().count() >= 3);
      assertEquals(0.0, meters.get("informer.watch.restarts").counter().count());
      long other = writer.put(unique("elsewhere") + "x", "y");
      await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().revision() >= other);
      assertEquals(0.0, meters.get("informer.watch.restarts").counter().count());
    }
  }

  @Test
  void aTransactionIsAppliedWhole() throws Exception {
    String prefix = unique("txn");
    writer.put(prefix + "a", prefix + "a|0");
    try (SharedIndexInformer<Versioned<String>> informer = informer(prefix).build().start()) {
      await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
      AtomicBoolean stop = new AtomicBoolean();
      List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread reader = new Thread(() -> {
        while (!stop.get()) {
          Set<String> keys = informer.lister().keys();
          if (keys.size() != 1) {
            seen.add(keys.toString());
          }
        }
      });
      reader.start();
      long last = 0;
      try {
        for (int i = 1; i <= 100; i++) {
          String from = prefix + (i % 2 == 1 ? "a" : "b");
          String to = prefix + (i % 2 == 1 ? "b" : "a");
          last = writer.jetcd().getKVClient().txn()
              .Then(io.etcd.jetcd.op.Op.delete(bytes(from), io.etcd.jetcd.options.DeleteOption.DEFAULT),
                  io.etcd.jetcd.op.Op.put(bytes(to), bytes(to + "|" + i), io.etcd.jetcd.options.PutOption.DEFAULT))
              .commit().get().getHeader().getRevision();
        }
        long end = last;
        await().atMost(Duration.ofSeconds(30)).until(() -> informer.lister().revision() >= end);
      } finally {
        stop.set(true);
        reader.join();
      }
      assertEquals(List.of(), seen, "states between the two halves of a transaction");
      assertEquals(Set.of(prefix + "a"), informer.lister().keys());
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Test
  void lateHandlerGetsTheCurrentStateAsInitialAdds() throws Exception {
    String prefix = unique("late");
    for (int i = 0; i < 15; i++) {
      writer.put(prefix + "k" + i, prefix + "k" + i + "|v0");
    }
    try (SharedIndexInformer<Versioned<String>> informer = informer(prefix).build()) {
      informer.start();
      await().atMost(Duration.ofSeconds(30)).until(informer::hasSynced);
      Recorder late = new Recorder();
      HandlerRegistration reg = informer.addEventHandler(late.values());
      await().atMost(Duration.ofSeconds(30)).until(reg::hasSynced);
      assertEquals(15, late.initialAdds.get());
      long last = writer.put(prefix + "k15", prefix + "k15|v0");
      assertConverged(prefix, informer, last, late);
      assertEquals(15, late.initialAdds.get());
      assertEquals(16, late.total.get());
    }
  }
}
