package io.dkv.informer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class StoreTest {

  private static Store<String> store() {
    Map<String, Function<? super String, ? extends Collection<String>>> indexes = new LinkedHashMap<>();
    indexes.put("letters", v -> v.chars().mapToObj(c -> String.valueOf((char) c)).distinct().toList());
    indexes.put("broken", v -> {
      if (v.startsWith("x")) {
        throw new IllegalArgumentException("cannot index " + v);
      }
      return v.startsWith("n") ? null : List.of(v);
    });
    return new Store<>(indexes);
  }

  @Test
  void putAndRemoveKeepObjectsRevisionsAndIndexes() {
    Store<String> s = store();
    assertNull(s.put("k2", "ab", 5));
    assertNull(s.put("k1", "bc", 6));
    assertEquals(List.of("bc", "ab"), s.list());
    assertEquals(Set.of("k1", "k2"), s.keys());
    assertEquals(List.of("bc", "ab"), s.byIndex("letters", "b"));
    assertEquals(List.of("ab"), s.byIndex("letters", "a"));
    assertEquals(6, s.revision());

    Store.Entry<String> old = s.put("k2", "cd", 7);
    assertEquals(new Store.Entry<>("ab", 5), old);
    assertEquals(List.of(), s.byIndex("letters", "a"));
    assertEquals(List.of("bc", "cd"), s.byIndex("letters", "c"));

    assertEquals(new Store.Entry<>("bc", 6), s.remove("k1", 8));
    assertNull(s.remove("k1", 9));
    assertEquals(List.of("cd"), s.byIndex("letters", "c"));
    assertEquals(Map.of("c", Set.of("k2"), "d", Set.of("k2")), s.indexContents("letters"));
    assertEquals(9, s.revision());
    assertEquals(Optional.empty(), s.get("k1"));
    assertEquals(Optional.of("cd"), s.get("k2"));
  }

  @Test
  void anIndexFunctionThatFailsOrReturnsNullLeavesTheObjectOutOfThatIndexOnly() {
    Store<String> s = store();
    s.put("a", "xy", 1);
    s.put("b", "no", 2);
    assertEquals(List.of("xy"), s.byIndex("letters", "x"));
    assertEquals(Map.of(), s.indexContents("broken"));
    s.remove("a", 3);
    assertEquals(List.of(), s.byIndex("letters", "x"));
  }

  @Test
  void unknownIndexIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store().byIndex("size", "1"));
    assertTrue(e.getMessage().contains("size"), e.getMessage());
  }

  @Test
  void entriesAreACopyThatSurvivesRemovals() {
    Store<String> s = store();
    for (int i = 0; i < 50; i++) {
      s.put("k" + (100 + i), "v" + i, i + 1);
    }
    List<Map.Entry<String, Store.Entry<String>>> entries = s.entries();
    for (int i = 0; i < 50; i += 2) {
      s.remove("k" + (100 + i), 100);
    }
    for (int i = 0; i < 50; i++) {
      assertEquals("k" + (100 + i), entries.get(i).getKey());
      assertEquals("v" + i, entries.get(i).getValue().object());
    }
  }

  @Test
  void readersNeverSeeHalfOfABatch() throws Exception {
    Store<String> s = store();
    s.put("a", "v0", 1);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<String> failure = new AtomicReference<>();
    List<Thread> readers = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Thread r = new Thread(() -> {
        while (!stop.get()) {
          List<String> all = s.list();
          if (all.size() != 1) {
            failure.set("saw " + all);
          }
          if (s.byIndex("letters", "v").size() != 1) {
            failure.set("index saw " + s.byIndex("letters", "v"));
          }
        }
      });
      readers.add(r);
      r.start();
    }
    for (int i = 0; i < 20_000; i++) {
      String from = i % 2 == 0 ? "a" : "b";
      String to = i % 2 == 0 ? "b" : "a";
      long rev = i + 2;
      s.batch(() -> {
        s.remove(from, rev);
        s.put(to, "v" + rev, rev);
      });
    }
    stop.set(true);
    for (Thread r : readers) {
      r.join();
    }
    assertNull(failure.get());
  }
}
