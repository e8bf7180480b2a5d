package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dkv.testing.DkvProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills the server (SIGKILL) repeatedly while several clients write, restarts it on the same data directory
 * and checks that every acknowledged write is there, with its revision, version and history; that revisions
 * never go backwards; and that an unacknowledged write either happened entirely or not at all.
 */
class CrashSafetyTest {

  private static final int ROUNDS = 5;
  private static final int WRITERS = 4;
  /** In this round the history is compacted while the writers run, so a kill may interrupt the compaction. */
  private static final int COMPACTION_ROUND = 2;
  static final List<String> SERVER_JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  @TempDir
  Path tmp;

  /** One key's state as the test knows it exactly (keys only one writer touches). */
  record KeyState(boolean exists, String value, long createRev, long modRev, long version) {
    static final KeyState ABSENT = new KeyState(false, null, 0, 0, 0);

    KeyState put(String v, long rev) {
      return exists ? new KeyState(true, v, createRev, rev, version + 1) : new KeyState(true, v, rev, rev, 1);
    }

    static KeyState of(GetResponse r) {
      if (r.getKvs().isEmpty()) {
        return ABSENT;
      }
      var kv = r.getKvs().get(0);
      return new KeyState(true, str(kv.getValue()), kv.getCreateRevision(), kv.getModRevision(), kv.getVersion());
    }
  }

  /** An acknowledged write of one key: its value (null: deleted) at a revision. */
  record Ack(String key, String value, long rev) {}

  /** A write sent but not acknowledged: each key's value had it been applied (null: deleted). */
  record Pending(Map<String, String> effects) {}

  private final Map<String, KeyState> own = new HashMap<>();
  private final Map<String, Long> sharedAcked = new HashMap<>();
  private final List<Ack> acks = new ArrayList<>();
  private final List<Pending> pendings = new ArrayList<>();
  private long highestSeen = 0;
  private long compactedAt = 0;
  private int inFlightAtKill = 0;

  static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static String str(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  static Client client(String endpoint) {
    return Client.builder().endpoints(endpoint).waitForReady(false).retryMaxAttempts(0)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** True if {@code t} (or a cause) is etcd's "required revision has been compacted" error. */
  static boolean isCompacted(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof io.etcd.jetcd.common.exception.EtcdException e
          && e.getErrorCode() == io.etcd.jetcd.common.exception.ErrorCode.OUT_OF_RANGE
          && String.valueOf(e.getMessage()).contains("etcdserver: mvcc: required revision has been compacted")) {
        return true;
      }
      if (c instanceof io.grpc.StatusRuntimeException e
          && e.getStatus().getCode() == io.grpc.Status.Code.OUT_OF_RANGE
          && "etcdserver: mvcc: required revision has been compacted".equals(e.getStatus().getDescription())) {
        return true;
      }
    }
    return false;
  }

  /** One client thread: sequential writes until one fails (the kill); it records what was acknowledged. */
  private static final class Writer implements Runnable {
    final int id;
    final int round;
    final KV kv;
    final AtomicInteger ackCount;
    final Random rnd;
    final Map<String, KeyState> local = new HashMap<>();
    final List<Ack> acks = new ArrayList<>();
    final Map<String, Long> shared = new HashMap<>();
    volatile boolean killed;
    Pending pending;
    Throwable unexpected;
    long lastRev;

    Writer(int id, int round, KV kv, AtomicInteger ackCount, long seed, Map<String, KeyState> own) {
      this.id = id;
      this.round = round;
      this.kv = kv;
      this.ackCount = ackCount;
      this.rnd = new Random(seed);
      own.forEach((k, v) -> {
        if (k.startsWith("w" + id + "/")) {
          local.put(k, v);
        }
      });
    }

    @Override
    public void run() {
      try {
        for (int i = 0; ; i++) {
          String p = "r" + round + "/w" + id + "/";
          String tag = round + "." + id + "." + i;
          switch (i % 6) {
            case 0 -> put(p + "k" + i, "v" + tag);
            case 1 -> put("w" + id + "/hot" + (i / 6) % 3, "h" + tag);
            case 2 -> putShared("shared/" + rnd.nextInt(4), "s" + tag);
            case 3 -> delete(p + "k" + (i - 3));
            case 4 -> txn(p, i, tag);
            default -> put(p + "k" + (i - 5), "again" + tag); // deleted two writes ago: a new generation
          }
        }
      } catch (Failed e) {
        if (!killed) {
          unexpected = e.getCause();
        }
      } catch (Throwable t) {
        unexpected = t;
      }
    }

    private static final class Failed extends Exception {
      Failed(Throwable cause) {
        super(cause);
      }
    }

    private <T> T call(Map<String, String> effects, CompletableFuture<T> f) throws Failed {
      pending = new Pending(effects);
      T r;
      try {
        r = f.get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new Failed(e); // outcome unknown: the pending write may or may not have been applied
      }
      pending = null;
      return r;
    }

    private void acked(long rev) {
      if (rev <= lastRev) {
        throw new AssertionError("writer " + id + ": revision " + rev + " after " + lastRev);
      }
      lastRev = rev;
      ackCount.incrementAndGet();
    }

    void put(String key, String value) throws Failed {
      PutResponse r = call(Map.of(key, value), kv.put(bs(key), bs(value)));
      long rev = r.getHeader().getRevision();
      acked(rev);
      acks.add(new Ack(key, value, rev));
      local.put(key, local.getOrDefault(key, KeyState.ABSENT).put(value, rev));
    }

    void putShared(String key, String value) throws Failed {
      PutResponse r = call(Map.of(), kv.put(bs(key), bs(value)));
      long rev = r.getHeader().getRevision();
      acked(rev);
      acks.add(new Ack(key, value, rev));
      shared.merge(key, rev, Math::max);
    }

    void delete(String key) throws Failed {
      Map<String, String> effect = new HashMap<>();
      effect.put(key, null);
      DeleteResponse r = call(effect, kv.delete(bs(key)));
      if (r.getDeleted() != 1) {
        throw new AssertionError("delete of " + key + " deleted " + r.getDeleted());
      }
      long rev = r.getHeader().getRevision();
      acked(rev);
      acks.add(new Ack(key, null, rev));
      local.put(key, KeyState.ABSENT);
    }

    /** If this writer's hot0 has the version it knows, put two keys at once (else one it never expects). */
    void txn(String p, int i, String tag) throws Failed {
      String hot = "w" + id + "/hot0";
      String a = p + "ta" + i;
      String b = p + "tb" + i;
      long version = local.getOrDefault(hot, KeyState.ABSENT).version();
      TxnResponse r = call(Map.of(a, "a" + tag, b, "b" + tag), kv.txn()
          .If(new Cmp(bs(hot), Cmp.Op.EQUAL, CmpTarget.version(version)))
          .Then(Op.put(bs(a), bs("a" + tag), PutOption.DEFAULT), Op.put(bs(b), bs("b" + tag), PutOption.DEFAULT))
          .Else(Op.put(bs(p + "wrong" + i), bs("x"), PutOption.DEFAULT), Op.delete(bs(hot), DeleteOption.DEFAULT))
          .commit());
      if (!r.isSucceeded()) {
        throw new AssertionError("txn compare on " + hot + " version " + version + " failed");
      }
      long rev = r.getHeader().getRevision();
      acked(rev);
      for (var e : Map.of(a, "a" + tag, b, "b" + tag).entrySet()) {
        acks.add(new Ack(e.getKey(), e.getValue(), rev));
        local.put(e.getKey(), KeyState.ABSENT.put(e.getValue(), rev));
      }
    }
  }

  @Test
  void acknowledgedWritesSurviveRepeatedKillsUnderLoad() throws Exception {
    long seed = new Random().nextLong();
    Random rnd = new Random(seed);
    String ctx = " (seed " + seed + ")";
    Path data = tmp.resolve("data");
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      for (int round = 0; round <= ROUNDS; round++) {
        try (DkvProcess server = DkvProcess.start(data, 0, SERVER_JVM); Client c = client(server.endpoint())) {
          KV kv = c.getKVClient();
          long header = kv.get(bs("no-such-key")).get(20, TimeUnit.SECONDS).getHeader().getRevision();
          assertTrue(header >= highestSeen, "revision went back from " + highestSeen + " to " + header + ctx);
          highestSeen = header;
          if (round > 0) {
            verify(kv, header, round, ctx);
          }
          if (round == ROUNDS) {
            break;
          }
          runAndKill(server, kv, round, rnd, pool, ctx);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(compactedAt > 0, "the history was compacted in round " + COMPACTION_ROUND);
    assertTrue(inFlightAtKill > 0, "writes were in flight when the server was killed");
    String log = Files.readString(tmp.resolve("data.log"));
    assertFalse(log.contains(" ERROR "), "the server logged errors:\n" + log);
    assertEquals(ROUNDS + 1, log.split("serving the etcd v3 API", -1).length - 1, "every start served" + ctx);
  }

  private void runAndKill(DkvProcess server, KV kv, int round, Random rnd, ExecutorService pool, String ctx)
      throws Exception {
    AtomicInteger acked = new AtomicInteger();
    List<Writer> writers = new ArrayList<>();
    List<CompletableFuture<Void>> running = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      Writer writer = new Writer(w, round, kv, acked, rnd.nextLong(), own);
      writers.add(writer);
      running.add(CompletableFuture.runAsync(writer, pool));
    }
    int killAfter = 80 + rnd.nextInt(150);
    try {
      if (round == COMPACTION_ROUND) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() >= killAfter / 2
            || running.stream().anyMatch(CompletableFuture::isDone));
        long at = acks.get(acks.size() / 2).rev();
        kv.compact(at).get(20, TimeUnit.SECONDS);
        compactedAt = at;
      }
      Awaitility.await().atMost(Duration.ofSeconds(60))
          .until(() -> acked.get() >= killAfter || running.stream().anyMatch(CompletableFuture::isDone));
    } finally {
      writers.forEach(w -> w.killed = true);
      server.kill();
    }
    CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    for (Writer w : writers) {
      if (w.unexpected != null) {
        throw new AssertionError("writer " + w.id + " failed before the kill" + ctx, w.unexpected);
      }
      acks.addAll(w.acks);
      own.putAll(w.local);
      w.shared.forEach((k, r) -> sharedAcked.merge(k, r, Math::max));
      if (w.pending != null) {
        inFlightAtKill++;
        if (!w.pending.effects().isEmpty()) {
          pendings.add(w.pending);
        }
      }
      highestSeen = Math.max(highestSeen, w.lastRev);
    }
  }

  private void verify(KV kv, long header, int round, String ctx) throws Exception {
    // an unacknowledged write happened entirely or not at all
    for (Pending p : pendings) {
      Map<String, KeyState> actual = new LinkedHashMap<>();
      for (String k : p.effects().keySet()) {
        actual.put(k, KeyState.of(kv.get(bs(k)).get(20, TimeUnit.SECONDS)));
      }
      boolean none = true;
      boolean all = true;
      for (var e : p.effects().entrySet()) {
        KeyState before = own.getOrDefault(e.getKey(), KeyState.ABSENT);
        KeyState now = actual.get(e.getKey());
        none &= now.equals(before);
        if (e.getValue() == null) {
          all &= !now.exists();
        } else {
          KeyState applied = before.put(e.getValue(), now.modRev());
          all &= now.equals(applied) && now.modRev() > before.modRev() && now.modRev() <= header;
        }
      }
      assertTrue(none || all, "unacknowledged " + p + " half applied: " + actual + ctx);
      if (all && !none) {
        own.putAll(actual);
      }
    }
    pendings.clear();

    // every key one writer owns is exactly as its acknowledged writes left it
    List<String> keys = new ArrayList<>(own.keySet());
    List<CompletableFuture<GetResponse>> gets = new ArrayList<>();
    for (String k : keys) {
      gets.add(kv.get(bs(k)));
    }
    for (int i = 0; i < keys.size(); i++) {
      GetResponse r = gets.get(i).get(20, TimeUnit.SECONDS);
      assertEquals(own.get(keys.get(i)), KeyState.of(r), "key " + keys.get(i) + " after restart " + round + ctx);
      assertTrue(r.getHeader().getRevision() >= header, "revision went back" + ctx);
    }
    // a key several writers share is at least as new as its newest acknowledged write
    for (var e : sharedAcked.entrySet()) {
      KeyState s = KeyState.of(kv.get(bs(e.getKey())).get(20, TimeUnit.SECONDS));
      assertTrue(s.exists() && s.modRev() >= e.getValue() && s.value().startsWith("s"),
          e.getKey() + " is " + s + ", acknowledged at " + e.getValue() + ctx);
    }

    // every acknowledged write is in the history, at its revision
    boolean checkedCompacted = false;
    List<Ack> history = new ArrayList<>();
    List<CompletableFuture<GetResponse>> at = new ArrayList<>();
    List<CompletableFuture<GetResponse>> justBefore = new ArrayList<>();
    for (Ack a : acks) {
      assertTrue(a.rev() <= header, a + " is newer than the restarted server's revision " + header + ctx);
      if (a.rev() < compactedAt) {
        if (!checkedCompacted) {
          checkedCompacted = true;
          Throwable t = kv.get(bs(a.key()), GetOption.builder().withRevision(a.rev()).build())
              .handle((r, e) -> e).get(20, TimeUnit.SECONDS);
          assertTrue(isCompacted(t), "a read below the compaction at " + compactedAt + " gave " + t + ctx);
        }
        continue;
      }
      history.add(a);
      at.add(kv.get(bs(a.key()), GetOption.builder().withRevision(a.rev()).build()));
      justBefore.add(a.value() == null && a.rev() - 1 >= compactedAt
          ? kv.get(bs(a.key()), GetOption.builder().withRevision(a.rev() - 1).build()) : null);
    }
    for (int i = 0; i < history.size(); i++) {
      Ack a = history.get(i);
      KeyState s = KeyState.of(at.get(i).get(20, TimeUnit.SECONDS));
      if (a.value() == null) {
        assertFalse(s.exists(), a + ": still there at " + a.rev() + ctx);
        if (justBefore.get(i) != null) {
          assertTrue(KeyState.of(justBefore.get(i).get(20, TimeUnit.SECONDS)).exists(),
              a + ": missing just before its deletion" + ctx);
        }
      } else {
        assertEquals(List.of(true, a.value(), a.rev()), List.of(s.exists(), String.valueOf(s.value()), s.modRev()),
            a + " read at its revision" + ctx);
        assertTrue(s.createRev() <= s.modRev() && s.version() >= 1, a + ": " + s + ctx);
      }
    }
    if (compactedAt > 0 && !checkedCompacted) {
      fail("no acknowledged write below the compaction at " + compactedAt);
    }
  }
}
