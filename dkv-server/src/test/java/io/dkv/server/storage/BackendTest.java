package io.dkv.server.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

/** The storage contract: batches are all-or-nothing, survive a reopen, scans see a snapshot, opens fail clearly. */
class BackendTest {

  @TempDir
  Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  private static Map<String, String> kv(Backend backend) {
    Map<String, String> all = new TreeMap<>();
    backend.scanKv(new byte[0], null, (k, v) -> {
      all.put(s(k), s(v));
      return true;
    });
    return all;
  }

  private static Map<Long, String> leases(Backend backend) {
    Map<Long, String> all = new TreeMap<>();
    backend.scanLeases((v, id) -> all.put(id, s(v)));
    return all;
  }

  @Test
  void aBatchAcrossColumnFamiliesIsStoredWholeAndSurvivesAReopen() throws IOException {
    try (Backend backend = Backend.open(dir); WriteBatch wb = new WriteBatch()) {
      backend.putKv(wb, b("rev-1"), b("one"));
      backend.putKv(wb, b("rev-2"), b("two"));
      backend.putMeta(wb, "appliedIndex", 42);
      backend.putLease(wb, 7, b("lease-7"));
      assertEquals(Map.of(), kv(backend), "visible before the batch is written");
      assertEquals(0, backend.getMeta("appliedIndex", 0));
      backend.write(wb, true);
      assertEquals(Map.of("rev-1", "one", "rev-2", "two"), kv(backend));
    }
    try (Backend reopened = Backend.open(dir)) {
      assertEquals(Map.of("rev-1", "one", "rev-2", "two"), kv(reopened));
      assertEquals(42, reopened.getMeta("appliedIndex", 0), "the applied state with the data it produced");
      assertEquals(Map.of(7L, "lease-7"), leases(reopened));
    }
  }

  @Test
  void aBatchNeverWrittenLeavesNothingAndDeletesApplyWithTheRest() throws IOException {
    try (Backend backend = Backend.open(dir)) {
      try (WriteBatch wb = new WriteBatch()) {
        backend.putKv(wb, b("rev-1"), b("one"));
        backend.putLease(wb, 7, b("lease-7"));
        backend.write(wb, true);
      }
      try (WriteBatch abandoned = new WriteBatch()) {
        backend.putKv(abandoned, b("rev-2"), b("two"));
        backend.putMeta(abandoned, "appliedIndex", 2);
      }
      try (WriteBatch wb = new WriteBatch()) {
        backend.deleteKv(wb, b("rev-1"));
        backend.deleteLease(wb, 7);
        backend.putKv(wb, b("rev-3"), b("three"));
        backend.write(wb, false); // not synced: close still makes it durable
      }
    }
    try (Backend reopened = Backend.open(dir)) {
      assertEquals(Map.of("rev-3", "three"), kv(reopened));
      assertEquals(-1, reopened.getMeta("appliedIndex", -1));
      assertEquals(Map.of(), leases(reopened));
    }
  }

  @Test
  void aScanVisitsItsRangeInOrderOnASnapshotAndStopsWhenAsked() throws IOException {
    try (Backend backend = Backend.open(dir)) {
      try (WriteBatch wb = new WriteBatch()) {
        for (String k : List.of("c", "a", "d", "b")) {
          backend.putKv(wb, b(k), b(k.toUpperCase()));
        }
        backend.write(wb, true);
      }
      List<String> seen = new ArrayList<>();
      backend.scanKv(b("b"), b("d"), (k, v) -> {
        seen.add(s(k) + "=" + s(v));
        try (WriteBatch wb = new WriteBatch()) { // a write during the scan is not part of it
          backend.putKv(wb, b("bb" + seen.size()), b("new"));
          backend.write(wb, false);
        }
        return true;
      });
      assertEquals(List.of("b=B", "c=C"), seen);

      List<String> first = new ArrayList<>();
      backend.scanKv(new byte[0], null, (k, v) -> {
        first.add(s(k));
        return false; // stop after the first
      });
      assertEquals(List.of("a"), first);
      assertArrayEquals(b("A"), backend.getKv(b("a")));
      assertNull(backend.getKv(b("zz")));
      List<byte[]> many = backend.multiGetKv(List.of(b("d"), b("missing"), b("a")));
      assertArrayEquals(b("D"), many.get(0));
      assertNull(many.get(1));
      assertArrayEquals(b("A"), many.get(2));
    }
  }

  @Test
  void aDirectoryInUseIsRefusedWithItsName() throws IOException {
    try (Backend first = Backend.open(dir)) {
      IOException e = assertThrows(IOException.class, () -> Backend.open(dir));
      assertEquals("data directory " + dir + " is in use by another dkv-server (its LOCK file is held)",
          e.getMessage());
    }
    Backend.open(dir).close(); // free again once closed
  }

  @Test
  void aDirectoryThatCannotBeCreatedIsRefusedWithItsName() throws IOException {
    Path file = Files.writeString(dir.resolve("file"), "x");
    IOException e = assertThrows(IOException.class, () -> Backend.open(file.resolve("data")));
    assertEquals("cannot create data directory " + file.resolve("data") + ": not a directory ("
        + file.resolve("data") + ")", e.getMessage());
  }
}
