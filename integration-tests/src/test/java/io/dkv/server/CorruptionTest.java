package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage is never silent. The Raft log is the durable record: damage inside it makes the member refuse to
 * start, naming the file; a log that lost committed entries (the state is ahead of it) is refused too; a torn
 * tail (a partial last entry, never acknowledged) is cut off; and damage to the RocksDB state, which the log
 * produced, is repaired from the log: nothing acknowledged is lost.
 */
class CorruptionTest {

  private static final int KEYS = 200;

  @TempDir
  Path dir;

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static String value(int i) {
    return "value-" + i + "-" + "v".repeat(64);
  }

  private DkvServer start() throws IOException {
    return DkvServer.builder().dataDir(dir).port(0).start();
  }

  private void writeKeys() throws Exception {
    try (DkvServer server = start(); Client c = Client.builder().endpoints(server.endpoint()).build()) {
      for (int i = 0; i < KEYS; i++) {
        c.getKVClient().put(bs("k/" + i), bs(value(i))).get(10, TimeUnit.SECONDS);
      }
    }
  }

  private void assertEveryKey() throws Exception {
    try (DkvServer server = start(); Client c = Client.builder().endpoints(server.endpoint()).build()) {
      var all = c.getKVClient().get(bs("k/"), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS);
      assertEquals(KEYS, all.getCount(), "every acknowledged key");
      for (var kv : all.getKvs()) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        assertEquals(value(Integer.parseInt(key.substring(2))), kv.getValue().toString(StandardCharsets.UTF_8));
      }
      assertEquals(KEYS + 1, all.getHeader().getRevision());
    }
  }

  private List<Path> logSegments() throws IOException {
    try (Stream<Path> s = Files.walk(dir.resolve("member/raft"))) {
      return s.filter(p -> p.getFileName().toString().startsWith("log_")).sorted().toList();
    }
  }

  private static long offsetOf(Path file, byte[] needle) throws IOException {
    byte[] data = Files.readAllBytes(file);
    outer:
    for (int i = 0; i + needle.length <= data.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (data[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void damageInsideTheLogIsRefusedNamingTheFile() throws Exception {
    writeKeys();
    Path segment = logSegments().get(0);
    long at = offsetOf(segment, value(KEYS / 2).getBytes(StandardCharsets.UTF_8));
    assertTrue(at > 0, "the value is in the log");
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      f.seek(at + 10);
      f.write('#'); // one byte of an acknowledged entry, entries after it intact
    }
    IOException e = assertThrows(IOException.class, this::start);
    assertTrue(e.getMessage().contains(segment.getFileName().toString()) && e.getMessage().contains("damaged"),
        e.getMessage());
  }

  @Test
  void aLogThatLostCommittedEntriesIsRefused() throws Exception {
    writeKeys();
    for (Path segment : logSegments()) {
      Files.delete(segment);
    }
    try (Stream<Path> s = Files.walk(dir.resolve("member/raft"))) { // and the snapshots: nothing holds them
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        if (p.toString().contains("/sm/")) {
          Files.delete(p);
        }
      }
    }
    IOException e = assertThrows(IOException.class, this::start);
    assertTrue(e.getMessage().contains("committed entries are missing from the log"), e.getMessage());
  }

  @Test
  void aTornTailIsCutOffAndNothingAcknowledgedIsLost() throws Exception {
    writeKeys();
    Path segment = logSegments().get(logSegments().size() - 1);
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      // half an entry after the last one: a length that promises 120 bytes, and 20 of them, as a crash in
      // mid-append leaves it
      f.seek(f.length());
      f.write(120);
      f.write("ZZZZZZZZZZZZZZZZZZZZ".getBytes(StandardCharsets.US_ASCII));
    }
    assertEveryKey();
  }

  @Test
  void damagedStateIsRebuiltFromTheLog() throws Exception {
    writeKeys();
    // the RocksDB state is gone (or damaged beyond its own recovery): the member applies the whole log again
    try (Stream<Path> s = Files.walk(dir.resolve("member/state"))) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    assertEveryKey();
  }

  @Test
  void aDamagedRecordInTheStatesWriteAheadLogIsRepairedFromTheRaftLog() throws Exception {
    writeKeys();
    Path wal;
    try (Stream<Path> s = Files.list(dir.resolve("member/state"))) {
      wal = s.filter(p -> p.getFileName().toString().endsWith(".log") && !p.getFileName().toString().equals("LOG"))
          .filter(p -> p.toFile().length() > 0).max(java.util.Comparator.comparingLong(p -> p.toFile().length()))
          .orElseThrow();
    }
    long at = offsetOf(wal, value(KEYS / 2).getBytes(StandardCharsets.UTF_8));
    assertTrue(at > 0, "the value is in RocksDB's write-ahead log");
    try (RandomAccessFile f = new RandomAccessFile(wal.toFile(), "rw")) {
      f.seek(at + 10);
      f.write('#'); // RocksDB's point-in-time recovery stops here and drops every record after it
    }
    assertEveryKey();
  }
}
