package io.dkv.server;

import static io.dkv.server.CrashSafetyTest.bs;
import static io.dkv.server.CrashSafetyTest.isCompacted;
import static io.dkv.server.CrashSafetyTest.str;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;

/**
 * Several clients writing to one server (puts, deletes, new generations of a key, two-key txns, puts to keys they
 * share) until it crashes, every write the server acknowledged, and the check that the restarted server still
 * has them, with their revisions; that its revision did not go back; and that a write in flight at the crash
 * happened entirely or not at all. The kill -9 and the power-loss tests share it; each crash is theirs to cause.
 */
final class AcknowledgedWrites {

  static final int WRITERS = 4;

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

  /** What a check of a restarted server can find wrong. */
  enum Problem {
    /** an acknowledged write is missing, or not as it was acknowledged */
    LOST,
    /** the server's revision is below one it had already reported */
    REVISION_BACK,
    /** a write that was in flight at the crash is there in part */
    TORN,
    /** anything else: compacted history served, a compaction not kept */
    OTHER
  }

  record Finding(Problem problem, String message) {}

  private final Map<String, KeyState> own = new HashMap<>();
  private final Map<String, Long> sharedAcked = new HashMap<>();
  private final List<Ack> acks = new ArrayList<>();
  private final List<Pending> pendings = new ArrayList<>();
  private final String ctx;
  private long highestSeen = 0;
  private long compactedAt = 0;
  private int inFlightAtKill = 0;

  /** {@code ctx} ends every message (the seed, to rerun a failure). */
  AcknowledgedWrites(String ctx) {
    this.ctx = ctx;
  }

  long compactedAt() {
    return compactedAt;
  }

  /** How many writes were in flight (sent, not answered) at the crashes so far. */
  int inFlightAtCrashes() {
    return inFlightAtKill;
  }

  /** How many writes were acknowledged so far. */
  int acknowledged() {
    return acks.size();
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


  /**
   * Runs the writers until {@code crashAfter} writes are acknowledged (or a writer stops), then runs {@code crash},
   * which must stop the server, and adds what was acknowledged and what was in flight. With {@code compactMidway}
   * the history is compacted halfway, while the writers run, so the crash may interrupt the compaction.
   */
  void runUntilCrash(KV kv, int round, int crashAfter, boolean compactMidway, Random rnd, ExecutorService pool,
      Runnable crash) throws Exception {
    AtomicInteger acked = new AtomicInteger();
    List<Writer> writers = new ArrayList<>();
    List<CompletableFuture<Void>> running = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      Writer writer = new Writer(w, round, kv, acked, rnd.nextLong(), own);
      writers.add(writer);
      running.add(CompletableFuture.runAsync(writer, pool));
    }
    try {
      if (compactMidway) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() >= crashAfter / 2
            || running.stream().anyMatch(CompletableFuture::isDone));
        long at = acks.get(acks.size() / 2).rev();
        kv.compact(at).get(20, TimeUnit.SECONDS);
        compactedAt = at;
      }
      Awaitility.await().atMost(Duration.ofSeconds(60))
          .until(() -> acked.get() >= crashAfter || running.stream().anyMatch(CompletableFuture::isDone));
    } finally {
      writers.forEach(w -> w.killed = true);
      crash.run();
    }
    CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    for (Writer w : writers) {
      if (w.unexpected != null) {
        throw new AssertionError("writer " + w.id + " failed before the crash" + ctx, w.unexpected);
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

  /** Checks a (re)started server against every write acknowledged so far; empty if all is well. */
  List<Finding> check(KV kv, int round) throws Exception {
    List<Finding> found = new ArrayList<>();
    long header = kv.get(bs("no-such-key")).get(20, TimeUnit.SECONDS).getHeader().getRevision();
    if (header < highestSeen) {
      found.add(new Finding(Problem.REVISION_BACK, "revision went back from " + highestSeen + " to " + header + ctx));
    }
    highestSeen = Math.max(highestSeen, header);

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
      if (!none && !all) {
        found.add(new Finding(Problem.TORN, "unacknowledged " + p + " half applied: " + actual + ctx));
      }
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
      KeyState expected = own.get(keys.get(i));
      if (!expected.equals(KeyState.of(r))) {
        found.add(new Finding(Problem.LOST, "key " + keys.get(i) + " after restart " + round + ": expected "
            + expected + ", found " + KeyState.of(r) + ctx));
      }
      if (r.getHeader().getRevision() < header) {
        found.add(new Finding(Problem.REVISION_BACK, "revision went back to " + r.getHeader().getRevision() + ctx));
      }
    }
    // a key several writers share is at least as new as its newest acknowledged write
    for (var e : sharedAcked.entrySet()) {
      KeyState s = KeyState.of(kv.get(bs(e.getKey())).get(20, TimeUnit.SECONDS));
      if (!(s.exists() && s.modRev() >= e.getValue() && s.value().startsWith("s"))) {
        found.add(new Finding(Problem.LOST, e.getKey() + " is " + s + ", acknowledged at " + e.getValue() + ctx));
      }
    }

    // every acknowledged write is in the history, at its revision
    boolean checkedCompacted = false;
    List<Ack> history = new ArrayList<>();
    List<CompletableFuture<GetResponse>> at = new ArrayList<>();
    List<CompletableFuture<GetResponse>> justBefore = new ArrayList<>();
    for (Ack a : acks) {
      if (a.rev() > header) {
        found.add(new Finding(Problem.LOST, a + " is newer than the restarted server's revision " + header + ctx));
        continue;
      }
      if (a.rev() < compactedAt) {
        if (!checkedCompacted) {
          checkedCompacted = true;
          Throwable t = kv.get(bs(a.key()), GetOption.builder().withRevision(a.rev()).build())
              .handle((r, e) -> e).get(20, TimeUnit.SECONDS);
          if (!isCompacted(t)) {
            found.add(new Finding(Problem.OTHER, "a read below the compaction at " + compactedAt + " gave " + t + ctx));
          }
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
        if (s.exists()) {
          found.add(new Finding(Problem.LOST, a + ": still there at " + a.rev() + ctx));
        }
        if (justBefore.get(i) != null && !KeyState.of(justBefore.get(i).get(20, TimeUnit.SECONDS)).exists()) {
          found.add(new Finding(Problem.LOST, a + ": missing just before its deletion" + ctx));
        }
      } else if (!s.exists() || !Objects.equals(a.value(), s.value()) || s.modRev() != a.rev()) {
        found.add(new Finding(Problem.LOST, a + " read at its revision is " + s + ctx));
      } else if (s.createRev() > s.modRev() || s.version() < 1) {
        found.add(new Finding(Problem.OTHER, a + ": " + s + ctx));
      }
    }
    if (compactedAt > 0 && !checkedCompacted) {
      found.add(new Finding(Problem.OTHER, "no acknowledged write below the compaction at " + compactedAt + ctx));
    }
    return found;
  }
}
