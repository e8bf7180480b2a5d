package io.dkv.server.linearizability;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Decides whether a history of calls is linearizable for etcd's per-key semantics ({@link RegisterModel}): is
 * there one order of the calls, each placed between its invocation and its response, in which every recorded output
 * is what the model gives? The history is split by key (calls on different keys do not interact in the model) and
 * each key is searched as in Wing and Gong's algorithm with Lowe's memoisation (Porcupine's approach): calls are
 * linearized one at a time from the earliest pending, backtracking when a response is reached whose call could not
 * be placed, and a (set of linearized calls, state) pair already explored is never explored again.
 *
 * <p>A call without a response may be placed anywhere after its invocation; one without a known output also
 * need not be placed at all. The search is bounded: past {@code maxSteps} steps for a key it answers
 * {@link Outcome#UNDECIDED} instead of running on.
 */
final class LinearizabilityChecker {

  enum Outcome { LINEARIZABLE, VIOLATION, UNDECIDED }

  /** The result for one key: the outcome, a report when it is not linearizable, the search steps taken. */
  record Verdict(String key, Outcome outcome, String explanation, long steps, int ops) {
    @Override
    public String toString() {
      return key + ": " + outcome + " (" + ops + " ops, " + steps + " steps)"
          + (explanation.isEmpty() ? "" : "\n" + explanation);
    }
  }

  private final long maxSteps;

  LinearizabilityChecker(long maxSteps) {
    this.maxSteps = maxSteps;
  }

  /** One verdict per key, in key order. */
  List<Verdict> check(List<Op> history) {
    Map<String, List<Op>> byKey = new TreeMap<>();
    for (Op op : history) {
      byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
    }
    long t0 = history.stream().mapToLong(Op::invoke).min().orElse(0);
    List<Verdict> out = new ArrayList<>();
    byKey.forEach((key, ops) -> out.add(new KeySearch(key, ops, t0).run()));
    return out;
  }

  /** A call's invocation or response in the time-ordered doubly linked list the search walks. */
  private static final class Entry {
    final Op op;
    final int index;
    final boolean call;
    final long time;
    Entry match; // a call's response, or null when it has none
    Entry prev;
    Entry next;

    Entry(Op op, int index, boolean call, long time) {
      this.op = op;
      this.index = index;
      this.call = call;
      this.time = time;
    }
  }

  private record Frame(Entry call, KeyState before, List<KeyState> alternatives, int chosen) {}

  private record Memo(BitSet linearized, KeyState state) {}

  private final class KeySearch {
    private final String key;
    private final List<Op> ops = new ArrayList<>();
    private final long t0;
    private final Entry head = new Entry(null, -1, false, Long.MIN_VALUE);
    private final BitSet linearized = new BitSet();
    private final Set<Memo> seen = new HashSet<>();
    private final Deque<Frame> stack = new ArrayDeque<>();
    private KeyState state = KeyState.INITIAL;
    private int required;
    private long steps;
    // the deepest point reached, for the report
    private int bestDepth = -1;
    private List<Op> bestPath = List.of();
    private KeyState bestState;
    private Entry bestBlocker;

    KeySearch(String key, List<Op> all, long t0) {
      this.key = key;
      this.t0 = t0;
      for (Op op : all) {
        if (!(op.out() == null && op.isRead())) { // a read with no output constrains nothing
          ops.add(op);
        }
      }
      List<Entry> entries = new ArrayList<>();
      for (int i = 0; i < ops.size(); i++) {
        Op op = ops.get(i);
        Entry call = new Entry(op, i, true, op.invoke());
        entries.add(call);
        if (op.out() != null) {
          required++;
          call.match = new Entry(op, i, false, op.response());
          entries.add(call.match);
        }
      }
      // by time; at equal times invocations first, so calls that touch are concurrent (the lenient reading)
      entries.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> !e.call));
      Entry last = head;
      for (Entry e : entries) {
        last.next = e;
        e.prev = last;
        last = e;
      }
    }

    Verdict run() {
      Entry e = head.next;
      while (required > 0) {
        if (++steps > maxSteps) {
          return new Verdict(key, Outcome.UNDECIDED, "search gave up after " + maxSteps + " steps; " + report(),
              steps, ops.size());
        }
        if (e.call) {
          Entry moved = place(e, RegisterModel.step(state, e.op), 0);
          e = moved != null ? moved : e.next;
        } else {
          noteProgress(e);
          if (stack.isEmpty()) {
            return new Verdict(key, Outcome.VIOLATION, report(), steps, ops.size());
          }
          Frame f = stack.pop();
          state = f.before();
          linearized.clear(f.call().index);
          unlift(f.call());
          if (f.call().match != null) {
            required++;
          }
          Entry moved = place(f.call(), f.alternatives(), f.chosen() + 1);
          e = moved != null ? moved : f.call().next;
        }
      }
      return new Verdict(key, Outcome.LINEARIZABLE, "", steps, ops.size());
    }

    /** Linearizes {@code call} into the first of its possible next states not explored yet; the next entry, or null. */
    private Entry place(Entry call, List<KeyState> alternatives, int from) {
      for (int i = from; i < alternatives.size(); i++) {
        KeyState next = alternatives.get(i);
        linearized.set(call.index);
        if (!seen.contains(new Memo(linearized, next))) {
          seen.add(new Memo((BitSet) linearized.clone(), next));
          stack.push(new Frame(call, state, alternatives, i));
          state = next;
          lift(call);
          if (call.match != null) {
            required--;
          }
          return head.next;
        }
        linearized.clear(call.index);
      }
      return null;
    }

    private void lift(Entry call) {
      unlink(call);
      if (call.match != null) {
        unlink(call.match);
      }
    }

    private void unlift(Entry call) {
      if (call.match != null) {
        relink(call.match);
      }
      relink(call);
    }

    private void unlink(Entry e) {
      e.prev.next = e.next;
      if (e.next != null) {
        e.next.prev = e.prev;
      }
    }

    private void relink(Entry e) {
      e.prev.next = e;
      if (e.next != null) {
        e.next.prev = e;
      }
    }

    private void noteProgress(Entry blocker) {
      if (stack.size() > bestDepth) {
        bestDepth = stack.size();
        List<Op> path = new ArrayList<>(stack.size());
        stack.descendingIterator().forEachRemaining(f -> path.add(f.call().op));
        bestPath = path;
        bestState = state;
        bestBlocker = blocker;
      }
    }

    /** The key, the longest linearizable prefix found, and the calls around the response it could not pass. */
    private String report() {
      if (bestBlocker == null) {
        return "no response was reached";
      }
      StringBuilder b = new StringBuilder();
      Op blocked = bestBlocker.op;
      b.append("key ").append(key).append(": no linearization past ").append(bestPath.size()).append(" of ")
          .append(ops.size()).append(" calls; then the state is ").append(bestState).append(",\n  and no order of the")
          .append(" pending calls explains the response of\n    ").append(blocked.describe(t0)).append('\n');
      b.append("  calls pending then (invoked before that response, not yet linearized), each from that state:\n");
      Set<Integer> done = new HashSet<>();
      bestPath.forEach(op -> done.add(op.id()));
      Map<Integer, Op> pending = new LinkedHashMap<>();
      for (Op op : ops) {
        if (!done.contains(op.id()) && op.invoke() <= blocked.response()) {
          pending.put(op.id(), op);
        }
      }
      int shown = 0;
      for (Op op : pending.values()) {
        if (shown++ == 12) {
          b.append("    ... ").append(pending.size() - 12).append(" more\n");
          break;
        }
        List<KeyState> next = RegisterModel.step(bestState, op);
        b.append("    ").append(op.describe(t0)).append(next.isEmpty() ? "  impossible" : "  -> " + next).append('\n');
      }
      b.append("  last calls of that prefix, in linearization order:\n");
      for (Op op : bestPath.subList(Math.max(0, bestPath.size() - 6), bestPath.size())) {
        b.append("    ").append(op.describe(t0)).append('\n');
      }
      return b.toString();
    }
  }
}
