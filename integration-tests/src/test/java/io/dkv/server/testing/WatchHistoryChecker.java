package io.dkv.server.testing;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.WatchResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks what watchers received against the write history, for etcd's six watch guarantees:
 * <ul>
 *   <li>Ordered: events by revision (and by position within a revision);
 *   <li>Unique: no event twice;
 *   <li>Reliable: no event of the watched range missing between the start and the last revision the
 *       watcher was told about (an event or a progress notification), unless history was compacted;
 *   <li>Atomic: all of a revision's events for the watcher in one response;
 *   <li>Resumable: a watch resumed from last revision + 1 continues without gap or duplicate;
 *   <li>Bookmarkable: a progress notification at R comes after every event up to R.
 * </ul>
 * Each problem found is returned as a line; an empty list means the history satisfies all six.
 */
public final class WatchHistoryChecker {

  /** One change in the write history: revision, position in it, and the key's state after it. */
  public record Change(long rev, int sub, boolean put, ByteString key, ByteString value) {}

  /** What one watcher watches. */
  public record Spec(ByteString key, ByteString end, boolean noPut, boolean noDelete, boolean prevKv) {
    boolean covers(ByteString k) {
      var cmp = ByteString.unsignedLexicographicalComparator();
      if (end.isEmpty()) {
        return key.equals(k);
      }
      boolean fromKey = end.size() == 1 && end.byteAt(0) == 0;
      return cmp.compare(k, key) >= 0 && (fromKey || cmp.compare(k, end) < 0);
    }

    boolean wants(Change c) {
      return covers(c.key()) && (c.put() ? !noPut : !noDelete);
    }
  }

  /** One watch call: where it started and what came back, in order. */
  public static final class Segment {
    /** The revision it asked for; for a watch from "now", set from its created response. */
    public volatile long startRev;
    public final List<WatchResponse> responses = new ArrayList<>();
    /** Set when the server canceled the watch because history was compacted. */
    public long compactedAt;

    public Segment(long startRev) {
      this.startRev = startRev;
    }
  }

  private final NavigableMap<Long, List<Change>> history = new TreeMap<>();

  /** Records the changes of one revision, in their order within it. */
  public synchronized void record(long rev, List<Change> changes) {
    if (!changes.isEmpty()) {
      history.put(rev, List.copyOf(changes));
    }
  }

  public synchronized NavigableMap<Long, List<Change>> history() {
    return new TreeMap<>(history);
  }

  /** Checks one watcher, given its segments in the order they ran (each resumed from the last revision + 1). */
  public List<String> check(String name, Spec spec, List<Segment> segments) {
    NavigableMap<Long, List<Change>> h = history();
    List<String> problems = new ArrayList<>();
    long lastRev = 0;
    int lastSub = -1;
    Set<String> seen = new HashSet<>();
    for (Segment seg : segments) {
      long covered = seg.startRev - 1; // every wanted change in [start, covered] has been received
      List<Change> got = new ArrayList<>();
      for (WatchResponse r : seg.responses) {
        if (r.getCreated() || r.getCanceled()) {
          continue;
        }
        if (r.getEventsCount() == 0) {
          // Bookmarkable: a progress notification at R means nothing up to R is still to come
          long at = r.getHeader().getRevision();
          for (Change c : wanted(h, spec, seg.startRev, at)) {
            if (!got.contains(c)) {
              problems.add(name + ": progress at " + at + " before " + c);
            }
          }
          covered = Math.max(covered, at);
          continue;
        }
        Map<Long, List<Change>> inResponse = new TreeMap<>();
        for (Event e : r.getEventsList()) {
          long rev = e.getKv().getModRevision();
          List<Change> atRev = h.getOrDefault(rev, List.of());
          int sub = indexOf(atRev, e);
          if (sub < 0) {
            problems.add(name + ": event not in the history: " + e.getType() + " " + e.getKv().getKey().toStringUtf8()
                + " at " + rev);
            continue;
          }
          Change c = atRev.get(sub);
          if (!spec.wants(c)) {
            problems.add(name + ": event outside the watch: " + c);
          }
          if (rev < lastRev || (rev == lastRev && sub <= lastSub)) {
            problems.add(name + ": out of order or repeated: " + c + " after revision " + lastRev);
          }
          if (!seen.add(rev + "/" + sub)) {
            problems.add(name + ": duplicate " + c);
          }
          if (spec.prevKv()) {
            checkPrevKv(name, h, c, e, problems);
          }
          lastRev = rev;
          lastSub = sub;
          got.add(c);
          inResponse.computeIfAbsent(rev, k -> new ArrayList<>()).add(c);
          covered = Math.max(covered, rev);
        }
        // Atomic: a response holds all of each of its revisions' wanted events
        inResponse.forEach((rev, cs) -> {
          List<Change> all = wanted(h, spec, rev, rev);
          if (!cs.equals(all)) {
            problems.add(name + ": revision " + rev + " split or partial: got " + cs + ", wanted " + all);
          }
        });
      }
      // Reliable and Resumable: exactly the wanted changes from the start to what the watcher was told
      List<Change> expected = wanted(h, spec, seg.startRev, covered);
      if (seg.compactedAt == 0 && !got.equals(expected)) {
        problems.add(name + ": segment from " + seg.startRev + " to " + covered + " got " + got.size()
            + " events, wanted " + expected.size() + missing(expected, got));
      }
    }
    return problems;
  }

  private static String missing(List<Change> expected, List<Change> got) {
    List<Change> m = new ArrayList<>(expected);
    m.removeAll(got);
    List<Change> extra = new ArrayList<>(got);
    extra.removeAll(expected);
    return "; missing " + m.subList(0, Math.min(3, m.size())) + "; extra " + extra.subList(0, Math.min(3, extra.size()));
  }

  private static void checkPrevKv(String name, NavigableMap<Long, List<Change>> h, Change c, Event e,
      List<String> problems) {
    // the previous state of the key: its last change before this one
    Change prev = null;
    for (Map.Entry<Long, List<Change>> en : h.headMap(c.rev(), true).descendingMap().entrySet()) {
      for (Change p : en.getValue()) {
        if (p.key().equals(c.key()) && (p.rev() < c.rev() || p.sub() < c.sub())) {
          prev = p;
        }
      }
      if (prev != null) {
        break;
      }
    }
    KeyValue pk = e.getPrevKv();
    if (e.hasPrevKv() && (prev == null || !prev.put() || !pk.getValue().equals(prev.value()))) {
      problems.add(name + ": wrong prev_kv on " + c + ": " + pk.getValue().toStringUtf8());
    }
  }

  private static int indexOf(List<Change> atRev, Event e) {
    for (int i = 0; i < atRev.size(); i++) {
      Change c = atRev.get(i);
      if (c.key().equals(e.getKv().getKey()) && c.put() == (e.getType() == Event.EventType.PUT)
          && (!c.put() || c.value().equals(e.getKv().getValue()))) {
        return i;
      }
    }
    return -1;
  }

  private static List<Change> wanted(NavigableMap<Long, List<Change>> h, Spec spec, long from, long to) {
    List<Change> out = new ArrayList<>();
    if (from > to) {
      return out;
    }
    for (List<Change> cs : h.subMap(from, true, to, true).values()) {
      for (Change c : cs) {
        if (spec.wants(c)) {
          out.add(c);
        }
      }
    }
    return out;
  }
}
