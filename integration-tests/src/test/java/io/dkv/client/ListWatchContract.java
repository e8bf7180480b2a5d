package io.dkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.ListWatch.Change;
import io.dkv.testing.ServerTestBase;
import io.dkv.testing.TestServer;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** dkv-client's one list/watch source, on dkv-server ({@code DkvListWatchTest}) and etcd ({@code EtcdListWatchTest}). */
abstract class ListWatchContract extends ServerTestBase {

  ListWatchContract(TestServer server) {
    super(server);
  }

  /** Records every sink call, and whether two ever overlapped or one came after close() returned. */
  static class RecordingSink<T> implements ListWatch.Sink<T> {
    final List<List<Change<T>>> batches = new CopyOnWriteArrayList<>();
    final List<Long> progress = new CopyOnWriteArrayList<>();
    final AtomicLong created = new AtomicLong(-1);
    final AtomicLong gone = new AtomicLong(-1);
    final AtomicReference<Throwable> closedCause = new AtomicReference<>();
    final AtomicInteger ends = new AtomicInteger();
    final List<String> violations = new CopyOnWriteArrayList<>();
    final AtomicInteger inCall = new AtomicInteger();
    volatile boolean closeReturned;

    void enter() {
      if (closeReturned) {
        violations.add("a sink call started after close() returned");
      }
      if (inCall.incrementAndGet() != 1) {
        violations.add("two sink calls at once");
      }
      if (!Thread.currentThread().getName().startsWith("dkv-client-callback")) {
        violations.add("called on " + Thread.currentThread().getName());
      }
      if (ends.get() > 0) {
        violations.add("a call after the end");
      }
    }

    void exit() {
      inCall.decrementAndGet();
    }

    @Override
    public void changes(List<Change<T>> changes, long serverRevision) {
      enter();
      batches.add(changes);
      exit();
    }

    @Override
    public void progress(long revision) {
      enter();
      progress.add(revision);
      exit();
    }

    @Override
    public void created(long serverRevision) {
      enter();
      created.set(serverRevision);
      exit();
    }

    @Override
    public void historyGone(long compactRevision) {
      enter();
      gone.set(compactRevision);
      ends.incrementAndGet();
      exit();
    }

    @Override
    public void closed(Throwable cause) {
      enter();
      closedCause.set(cause);
      ends.incrementAndGet();
      exit();
    }

    List<Change<T>> changes() {
      List<Change<T>> all = new ArrayList<>();
      batches.forEach(all::addAll);
      return all;
    }
  }

  private static String describe(Change<String> c) {
    return c.type() + " " + c.key() + " " + (c.value() == null ? null : c.value().value()) + " prev "
        + (c.previous() == null ? null : c.previous().value());
  }

  @Test
  void pagesOfOneListShowOneRevisionAndKeysOnlyListsCarryNoValues() {
    String p = unique("lw-pages");
    Map<String, String> before = new TreeMap<>();
    for (int i = 10; i < 35; i++) {
      client.put(p + "k" + i, "v" + i);
      before.put(p + "k" + i, "v" + i);
    }
    client.put(p.substring(0, p.length() - 1) + "x", "a sibling outside the prefix");
    ListWatch<String> source = ListWatch.prefix(client, p, Codec.string()).build();
    ListWatch.Page<String> page = source.list(0, null, 10);
    long at = page.revision();
    client.delete(p + "k30");
    client.put(p + "k31", "changed");
    client.put(p + "k99", "new");
    Map<String, String> listed = new TreeMap<>();
    page.items().forEach(v -> listed.put(v.key(), v.value()));
    while (page.hasMore()) {
      page = source.list(at, page.continueFrom(), 10);
      assertEquals(at, page.revision());
      page.items().forEach(v -> listed.put(v.key(), v.value()));
    }
    assertEquals(before, listed, "the state at the first page's revision");

    Map<String, Versioned<String>> now = new TreeMap<>();
    client.list(p, Codec.string()).forEach(v -> now.put(v.key(), v));
    List<Versioned<String>> keys = new ArrayList<>();
    ListWatch.Page<String> k = source.listKeys(0, null, 7);
    keys.addAll(k.items());
    while (k.hasMore()) {
      k = source.listKeys(k.revision(), k.continueFrom(), 7);
      keys.addAll(k.items());
    }
    assertEquals(List.copyOf(now.keySet()), keys.stream().map(Versioned::key).toList());
    for (Versioned<String> v : keys) {
      assertNull(v.value(), "keys only");
      assertEquals(now.get(v.key()).withValue(null), v, "key, revisions, version and lease of " + v.key());
    }
  }

  @Test
  void aKeySourceSeesOnlyThatKey() {
    String p = unique("lw-key");
    client.put(p + "k1", "one");
    client.put(p + "k10", "ten");
    ListWatch<String> source = ListWatch.key(client, p + "k1", Codec.string()).build();
    ListWatch.Page<String> page = source.list(0, null, 10);
    assertEquals(List.of(p + "k1"), page.items().stream().map(Versioned::key).toList());
    RecordingSink<String> sink = new RecordingSink<>();
    try (ListWatch.Watch w = source.watch(page.revision(), sink)) {
      client.put(p + "k10", "ten again");
      long last = client.put(p + "k1", "one again");
      await().atMost(Duration.ofSeconds(30)).until(() -> !sink.changes().isEmpty());
      assertEquals(List.of("MODIFIED " + p + "k1 one again prev null"),
          sink.changes().stream().map(ListWatchContract::describe).toList());
      assertEquals(last, sink.changes().get(0).revision());
    }
    assertEquals(List.of(), sink.violations);
  }

  @Test
  void aWatchDeliversEveryChangeAfterItsRevisionAndATransactionInOneCall() throws Exception {
    String p = unique("lw-watch");
    client.put(p + "old", "before the watch");
    ListWatch<String> source = ListWatch.prefix(client, p, Codec.string()).build();
    long from = source.list(0, null, 100).revision();
    RecordingSink<String> sink = new RecordingSink<>();
    try (ListWatch.Watch w = source.watch(from, sink)) {
      long r1 = client.put(p + "a", "1");
      long r2 = client.put(p + "a", "2");
      long r3 = client.jetcd().getKVClient().txn().Then(
              Op.delete(bytes(p + "a"), DeleteOption.DEFAULT),
              Op.put(bytes(p + "b"), bytes("moved"), PutOption.DEFAULT))
          .commit().get().getHeader().getRevision();
      client.delete(p + "b");
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.changes().size() == 5);
      List<Change<String>> c = sink.changes();
      assertEquals(List.of("ADDED " + p + "a 1 prev null", "MODIFIED " + p + "a 2 prev null",
          "DELETED " + p + "a null prev null", "ADDED " + p + "b moved prev null", "DELETED " + p + "b null prev null"),
          c.stream().map(ListWatchContract::describe).toList());
      assertEquals(List.of(r1, r2, r3, r3, r3 + 1), c.stream().map(Change::revision).toList());
      Versioned<String> second = c.get(1).value();
      assertEquals(new Versioned<>(p + "a", "2", r1, r2, 2, 0), second, "the object carries its metadata");
      assertTrue(sink.batches.stream().anyMatch(b -> b.size() == 2 && b.get(0).revision() == r3
          && b.get(1).revision() == r3), "the transaction's two changes came in one call: " + sink.batches);
      assertTrue(sink.created.get() >= from, "created before the changes");
    }
    assertEquals(List.of(), sink.violations);
  }

  @Test
  void withPreviousValuesAFilterTurnsSelectionChangesIntoAddsAndDeletes() {
    String p = unique("lw-filter");
    client.put(p + "x", "out:0");
    client.put(p + "y", "in:0");
    ListWatch<String> source = ListWatch.prefix(client, p, Codec.string()).previousValues(true)
        .filter(v -> v.value().startsWith("in:")).build();
    ListWatch.Page<String> page = source.list(0, null, 100);
    assertEquals(List.of(p + "y"), page.items().stream().map(Versioned::key).toList());
    assertEquals(List.of(p + "y"), source.listKeys(0, null, 100).items().stream().map(Versioned::key).toList());
    RecordingSink<String> sink = new RecordingSink<>();
    try (ListWatch.Watch w = source.watch(page.revision(), sink)) {
      client.put(p + "x", "out:1");   // outside before and after: nothing
      client.put(p + "x", "in:1");    // enters
      client.put(p + "x", "in:2");
      client.put(p + "x", "out:2");   // leaves, with its last state inside
      client.delete(p + "x");         // gone while outside: nothing
      client.delete(p + "y");
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.changes().size() == 4);
      assertEquals(List.of("ADDED " + p + "x in:1 prev null", "MODIFIED " + p + "x in:2 prev in:1",
              "DELETED " + p + "x null prev in:2", "DELETED " + p + "y null prev in:0"),
          sink.changes().stream().map(ListWatchContract::describe).toList());
    }
    assertEquals(List.of(), sink.violations);
  }

  @Test
  void valuesTheCodecCannotDecodeAreAbsent() {
    String p = unique("lw-decode");
    Codec<String> strict = new Codec<>() {
      @Override
      public byte[] encode(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8);
        if (s.startsWith("bad")) {
          throw new IllegalArgumentException("not a value: " + s);
        }
        return s.equals("null") ? null : s;
      }
    };
    client.put(p + "a", "good");
    client.put(p + "b", "bad");
    client.put(p + "c", "null");
    ListWatch<String> source = ListWatch.prefix(client, p, strict).build();
    ListWatch.Page<String> page = source.list(0, null, 100);
    assertEquals(List.of(p + "a"), page.items().stream().map(Versioned::key).toList());
    assertEquals(List.of(p + "a"), source.listKeys(0, null, 100).items().stream().map(Versioned::key).toList(),
        "a keys-only list leaves out what the source could not decode");
    RecordingSink<String> sink = new RecordingSink<>();
    try (ListWatch.Watch w = source.watch(page.revision(), sink)) {
      client.put(p + "a", "bad again");
      client.put(p + "b", "good now");
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.changes().size() == 2);
      assertEquals(List.of("DELETED " + p + "a null prev null", "MODIFIED " + p + "b good now prev null"),
          sink.changes().stream().map(ListWatchContract::describe).toList());
    }
    assertEquals(List.of(p + "b"), source.listKeys(0, null, 100).items().stream().map(Versioned::key).toList());
  }

  @Test
  void lostHistoryIsADistinctSignal() throws Exception {
    String p = unique("lw-compact");
    long old = client.put(p + "a", "1");
    client.put(p + "a", "2");
    long compactAt = client.put(p + "a", "3");
    client.jetcd().getKVClient().compact(compactAt).get();
    ListWatch<String> source = ListWatch.prefix(client, p, Codec.string()).build();
    RevisionCompactedException e = assertThrows(RevisionCompactedException.class, () -> source.list(old, null, 10));
    assertTrue(e.getMessage().contains(p), e.getMessage());
    RecordingSink<String> sink = new RecordingSink<>();
    try (ListWatch.Watch w = source.watch(old, sink)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.ends.get() == 1);
      assertEquals(compactAt, sink.gone.get(), "historyGone with the compact revision");
      assertNull(sink.closedCause.get());
      assertTrue(sink.changes().isEmpty());
    }
    assertEquals(List.of(), sink.violations);
  }

  @Test
  void aProgressRequestIsAnsweredWithAProgressCall() {
    String p = unique("lw-progress");
    ListWatch<String> source = ListWatch.prefix(client, p, Codec.string()).build();
    long at = client.put(unique("lw-elsewhere") + "x", "y");
    RecordingSink<String> sink = new RecordingSink<>();
    try (ListWatch.Watch w = source.watch(0, sink)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.created.get() >= 0);
      assertTrue(w.requestProgress());
      await().atMost(Duration.ofSeconds(30)).until(() -> !sink.progress.isEmpty());
      assertTrue(sink.progress.get(0) >= at, "a bookmark at or after " + at + ": " + sink.progress);
      w.close();
      assertTrue(!w.requestProgress(), "closed");
    }
    assertEquals(List.of(), sink.violations);
  }

  @Test
  void aSinkThatThrowsDoesNotStopTheWatch() {
    String p = unique("lw-throw");
    ListWatch<String> source = ListWatch.prefix(client, p, Codec.string()).build();
    List<String> seen = new CopyOnWriteArrayList<>();
    long from = source.list(0, null, 1).revision();
    try (ListWatch.Watch w = source.watch(from, new RecordingSink<>() {
      @Override
      public void changes(List<Change<String>> changes, long serverRevision) {
        changes.forEach(c -> seen.add(c.value().value()));
        if (seen.size() == 1) {
          throw new IllegalStateException("the sink fails once");
        }
      }
    })) {
      client.put(p + "a", "1");
      client.put(p + "a", "2");
      client.put(p + "a", "3");
      await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 3);
      assertEquals(List.of("1", "2", "3"), seen);
    }
  }

  @Test
  void noSinkCallStartsAfterCloseReturnsWhileChangesPourIn() throws Exception {
    String p = unique("lw-close");
    ListWatch<String> source = ListWatch.prefix(client, p, Codec.string()).build();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger writes = new AtomicInteger();
    Thread writer = new Thread(() -> {
      while (!stop.get()) {
        client.put(p + "k" + (writes.incrementAndGet() % 5), "v");
      }
    });
    writer.start();
    List<RecordingSink<String>> sinks = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        RecordingSink<String> sink = new RecordingSink<>();
        sinks.add(sink);
        ListWatch.Watch w = source.watch(0, sink);
        int seen = writes.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> !sink.batches.isEmpty() || writes.get() > seen + 50);
        w.close();
        sink.closeReturned = true;
      }
      int now = writes.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> writes.get() > now + 50); // changes keep coming meanwhile
    } finally {
      stop.set(true);
      writer.join();
    }
    for (RecordingSink<String> s : sinks) {
      assertEquals(List.of(), s.violations);
    }
    assertTrue(sinks.stream().anyMatch(s -> !s.batches.isEmpty()), "the watches saw changes");
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
