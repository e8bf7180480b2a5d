package io.dkv.server.linearizability;

import io.dkv.server.linearizability.Op.Kind;
import io.dkv.server.linearizability.Op.Output;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * Linearizable histories by construction, for the checker's tests: clients call a simulated etcd whose calls take
 * effect atomically at a random point between invocation and response; some calls time out (no response, taking
 * effect or not). Optionally one read, after a given share of the calls, returns the state before a write that had
 * already completed when the read was invoked: a stale read, so the history is then not linearizable.
 */
final class SimulatedHistory {
  private final Random random;
  private final int keys;
  private final int clients;
  private double staleAt = -1;
  private double timeoutShare;

  SimulatedHistory(long seed, int keys, int clients) {
    this.random = new Random(seed);
    this.keys = keys;
    this.clients = clients;
  }

  SimulatedHistory withStaleRead(double atShareOfCalls) {
    this.staleAt = atShareOfCalls;
    return this;
  }

  private record Event(long time, int seq, int client, boolean apply) {}

  private static final class Call {
    int id;
    int client;
    String key;
    Kind kind;
    String value;
    String expectValue;
    long expectRev;
    long invoke;
    long response;
    boolean timesOut;
    boolean stale;
    KeyState staleState;
    Output out;
  }

  private final Map<String, KeyState> store = new HashMap<>();
  private final Map<String, KeyState> beforeLastCompletedWrite = new HashMap<>();
  private long revision = 1;

  List<Op> generate(int calls, double timeoutShare) {
    this.timeoutShare = timeoutShare;
    PriorityQueue<Event> events = new PriorityQueue<>(Comparator.comparingLong(Event::time).thenComparingInt(Event::seq));
    Call[] current = new Call[clients];
    Map<Call, KeyState> stateBefore = new HashMap<>();
    List<Op> ops = new ArrayList<>();
    int seq = 0;
    int started = 0;
    boolean staleDone = false;
    for (int c = 0; c < clients; c++) {
      events.add(new Event(random.nextInt(3), seq++, c, false));
      current[c] = null;
    }
    while (!events.isEmpty()) {
      Event e = events.poll();
      Call call = current[e.client()];
      if (call == null) { // invoke a new call
        if (started == calls) {
          continue;
        }
        call = invoke(started++, e.client(), e.time());
        if (!staleDone && staleAt >= 0 && started >= staleAt * calls && call.kind == Kind.GET) {
          KeyState old = beforeLastCompletedWrite.get(call.key);
          KeyState now = store.getOrDefault(call.key, KeyState.INITIAL);
          if (old != null && !old.equals(now) && (old.present() || now.present())) {
            call.stale = true;
            call.staleState = old;
            staleDone = true;
          }
        }
        current[e.client()] = call;
        long applyAt = e.time() + 1 + random.nextInt(5);
        events.add(new Event(applyAt, seq++, e.client(), true));
      } else if (e.apply()) {
        if (!(call.timesOut && random.nextBoolean())) {
          stateBefore.put(call, store.getOrDefault(call.key, KeyState.INITIAL));
          apply(call);
        }
        call.response = e.time() + 1 + random.nextInt(5);
        events.add(new Event(call.response, seq++, e.client(), false));
      } else { // the response
        if (call.kind != Kind.GET && !call.timesOut && call.out != null && call.out.ok()) {
          beforeLastCompletedWrite.put(call.key, stateBefore.get(call));
        }
        ops.add(new Op(call.id, call.client, call.key, call.kind, call.value, call.expectValue, call.expectRev,
            call.invoke, call.timesOut ? Op.NO_RESPONSE : call.response, call.timesOut ? null : call.out));
        current[e.client()] = null;
        events.add(new Event(e.time() + random.nextInt(2), seq++, e.client(), false));
      }
    }
    if (staleAt >= 0 && !staleDone) {
      throw new IllegalStateException("no read qualified for the stale read");
    }
    return ops;
  }

  private Call invoke(int id, int client, long now) {
    Call c = new Call();
    c.id = id;
    c.client = client;
    c.key = "k" + random.nextInt(keys);
    c.invoke = now;
    c.timesOut = random.nextDouble() < timeoutShare;
    int r = random.nextInt(100);
    KeyState s = store.getOrDefault(c.key, KeyState.INITIAL);
    if (r < 40) {
      c.kind = Kind.GET;
    } else if (r < 65) {
      c.kind = Kind.PUT;
    } else if (r < 75) {
      c.kind = Kind.CAS_VALUE;
      c.expectValue = s.present() && random.nextBoolean() ? s.value() : "v" + random.nextInt(Math.max(1, id));
    } else if (r < 85) {
      c.kind = Kind.CAS_REV;
      c.expectRev = random.nextBoolean() ? (s.present() ? s.rev() : 0) : random.nextInt((int) revision + 1);
    } else {
      c.kind = Kind.DELETE;
    }
    if (c.kind == Kind.PUT || c.kind == Kind.CAS_VALUE || c.kind == Kind.CAS_REV) {
      c.value = "v" + id;
    }
    return c;
  }

  private void apply(Call c) {
    KeyState s = store.getOrDefault(c.key, KeyState.INITIAL);
    switch (c.kind) {
      case GET -> {
        KeyState seen = c.stale ? c.staleState : s;
        c.out = Output.read(seen.value(), seen.present() ? seen.rev() : 0, seen.version());
      }
      case PUT -> c.out = write(c.key, s, c.value);
      case DELETE -> {
        if (s.present()) {
          store.put(c.key, new KeyState(null, ++revision, true, 0));
          c.out = Output.deleted(true, revision);
        } else {
          c.out = Output.deleted(false, revision);
        }
      }
      case CAS_VALUE, CAS_REV -> {
        boolean held = c.kind == Kind.CAS_VALUE
            ? s.present() && s.value().equals(c.expectValue)
            : (s.present() ? s.rev() : 0) == c.expectRev;
        c.out = held ? write(c.key, s, c.value)
            : Output.casFailed(s.value(), s.present() ? s.rev() : 0, s.version());
      }
    }
  }

  private Output write(String key, KeyState s, String value) {
    store.put(key, new KeyState(value, ++revision, true, s.present() ? s.version() + 1 : 1));
    return Output.wrote(revision);
  }
}
