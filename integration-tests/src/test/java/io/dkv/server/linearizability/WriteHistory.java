package io.dkv.server.linearizability;

import com.google.protobuf.ByteString;
import io.dkv.server.linearizability.Op.Kind;
import io.dkv.server.linearizability.Op.Output;
import io.dkv.server.testing.WatchHistoryChecker;
import io.dkv.server.testing.WatchHistoryChecker.Change;
import io.etcd.jetcd.api.Event;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every change of the workload's keys, revision by revision, as a watch from revision 1 received it after the run
 * (history is never compacted during the test, so this is all of it). It is the reference the member watchers are
 * checked against, and it settles what clients could not know: which calls without a response took effect, and at
 * which revision, and whether any acknowledged write is missing.
 */
final class WriteHistory {
  private final NavigableMap<Long, List<Change>> byRevision = new TreeMap<>();

  WriteHistory(List<Event> events) {
    for (Event e : events) {
      long rev = e.getKv().getModRevision();
      List<Change> atRev = byRevision.computeIfAbsent(rev, r -> new ArrayList<>());
      boolean put = e.getType() == Event.EventType.PUT;
      atRev.add(new Change(rev, atRev.size(), put, e.getKv().getKey(), put ? e.getKv().getValue() : ByteString.EMPTY));
    }
  }

  int size() {
    return byRevision.size();
  }

  /** A watch checker holding this history. */
  WatchHistoryChecker watchChecker() {
    WatchHistoryChecker checker = new WatchHistoryChecker();
    byRevision.forEach(checker::record);
    return checker;
  }

  private Change at(long rev, String key) {
    for (Change c : byRevision.getOrDefault(rev, List.of())) {
      if (c.key().toStringUtf8().equals(key)) {
        return c;
      }
    }
    return null;
  }

  /** Acknowledged writes (a put, a cas that succeeded, a delete that deleted) not in the history at their revision. */
  List<String> lostWrites(List<Op> ops) {
    long t0 = ops.stream().mapToLong(Op::invoke).min().orElse(0);
    List<String> lost = new ArrayList<>();
    for (Op op : ops) {
      if (op.out() == null || !op.out().ok() || op.isRead()) {
        continue;
      }
      Change c = at(op.out().rev(), op.key());
      boolean there = op.kind() == Kind.DELETE ? c != null && !c.put()
          : c != null && c.put() && c.value().toStringUtf8().equals(op.value());
      if (!there) {
        lost.add("acknowledged but not in the history at revision " + op.out().rev() + ": " + op.describe(t0)
            + (c == null ? "" : " (the history has " + c + ")"));
      }
    }
    return lost;
  }

  /** Changes of the workload's keys that no call made: a value never written, or written twice. */
  List<String> unexplained(List<Op> ops, Set<String> keys) {
    Set<String> written = new HashSet<>();
    Set<String> deletedKeys = new HashSet<>();
    for (Op op : ops) {
      if (op.value() != null) {
        written.add(op.key() + "=" + op.value());
      }
      if (op.kind() == Kind.DELETE) {
        deletedKeys.add(op.key());
      }
    }
    List<String> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (List<Change> cs : byRevision.values()) {
      for (Change c : cs) {
        String key = c.key().toStringUtf8();
        if (!keys.contains(key)) {
          continue;
        }
        String kv = key + "=" + c.value().toStringUtf8();
        if (c.put() && !written.contains(kv)) {
          out.add("a value no call wrote: " + c);
        } else if (c.put() && !seen.add(kv)) {
          out.add("a value written twice: " + c);
        } else if (!c.put() && !deletedKeys.contains(key)) {
          out.add("a delete no call made: " + c);
        }
      }
    }
    return out;
  }

  /**
   * The history with what this write history tells about the calls that got no response: a put or cas whose value
   * is in it took effect at that revision (its output is now known; it still has no response time); one whose value
   * is not never took effect and is left out. Of the deletes with no response on a key, as many as the key has
   * deletions no acknowledged delete accounts for are kept, the earliest invoked (any later one could take effect
   * only where an earlier one can); the rest are left out.
   */
  List<Op> patch(List<Op> ops) {
    Map<String, Long> revisionOfValue = new HashMap<>();
    Map<String, Integer> deletions = new HashMap<>();
    byRevision.values().forEach(cs -> cs.forEach(c -> {
      if (c.put()) {
        revisionOfValue.put(c.key().toStringUtf8() + "=" + c.value().toStringUtf8(), c.rev());
      } else {
        deletions.merge(c.key().toStringUtf8(), 1, Integer::sum);
      }
    }));
    for (Op op : ops) {
      if (op.kind() == Kind.DELETE && op.out() != null && op.out().ok()) {
        deletions.merge(op.key(), -1, Integer::sum);
      }
    }
    List<Op> out = new ArrayList<>();
    List<Op> unknownDeletes = new ArrayList<>();
    for (Op op : ops) {
      if (op.out() != null || op.isRead()) {
        out.add(op);
      } else if (op.kind() == Kind.DELETE) {
        unknownDeletes.add(op);
      } else {
        Long rev = revisionOfValue.get(op.key() + "=" + op.value());
        if (rev != null) {
          out.add(op.withLearntOutput(Output.wrote(rev)));
        }
      }
    }
    unknownDeletes.sort(Comparator.comparingLong(Op::invoke));
    Map<String, Integer> kept = new HashMap<>();
    for (Op op : unknownDeletes) {
      if (kept.merge(op.key(), 1, Integer::sum) <= deletions.getOrDefault(op.key(), 0)) {
        out.add(op);
      }
    }
    return out;
  }
}
