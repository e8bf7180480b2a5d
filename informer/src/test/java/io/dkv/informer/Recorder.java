package io.dkv.informer;

import io.dkv.client.Versioned;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A handler of String values of the form {@code key|payload} that records, per key, the sequence of states it was
 * shown (null: absent), checks that every call is consistent with what it saw before, and counts the calls.
 */
class Recorder implements ResourceEventHandler<String> {

  /** One call, for tests that check exact deltas. */
  record Call(String kind, String before, String after, boolean flag) {}

  private final Map<String, List<String>> states = new HashMap<>();
  private final Map<String, String> current = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  private final List<Call> calls = new ArrayList<>();
  final AtomicInteger initialAdds = new AtomicInteger();
  final AtomicInteger resyncs = new AtomicInteger();
  final AtomicInteger total = new AtomicInteger();

  /**
   * This recorder as a handler of an etcd informer's {@link Versioned} objects: it records their values, and
   * records a violation when an object's key is not the key its value names.
   */
  ResourceEventHandler<Versioned<String>> values() {
    Recorder self = this;
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(Versioned<String> object, boolean initial) {
        self.onAdd(checked(object), initial);
      }

      @Override
      public void onUpdate(Versioned<String> before, Versioned<String> after) {
        self.onUpdate(checked(before), before == after ? checked(before) : checked(after));
      }

      @Override
      public void onDelete(Versioned<String> object, boolean finalStateUnknown) {
        self.onDelete(checked(object), finalStateUnknown);
      }
    };
  }

  private String checked(Versioned<String> v) {
    if (!v.key().equals(keyOf(v.value()))) {
      synchronized (this) {
        violations.add("object of key " + v.key() + " holds " + v.value());
      }
    }
    return v.value();
  }

  static String keyOf(String value) {
    int bar = value.indexOf('|');
    return bar < 0 ? value : value.substring(0, bar);
  }

  @Override
  public synchronized void onAdd(String object, boolean initial) {
    calls.add(new Call("add", null, object, initial));
    if (initial) {
      initialAdds.incrementAndGet();
    }
    String key = keyOf(object);
    if (current.containsKey(key)) {
      violations.add("onAdd of " + object + " while " + current.get(key) + " is present");
    }
    see(key, object);
    total.incrementAndGet();
  }

  @Override
  public synchronized void onUpdate(String before, String after) {
    calls.add(new Call("update", before, after, before == after));
    String key = keyOf(after);
    if (!Objects.equals(current.get(key), before)) {
      violations.add("onUpdate from " + before + " but the handler had " + current.get(key));
    }
    if (before == after) {
      resyncs.incrementAndGet();
    } else {
      see(key, after);
    }
    total.incrementAndGet();
  }

  @Override
  public synchronized void onDelete(String object, boolean finalStateUnknown) {
    calls.add(new Call("delete", object, null, finalStateUnknown));
    String key = keyOf(object);
    if (!current.containsKey(key)) {
      violations.add("onDelete of " + object + " which is absent");
    }
    see(key, null);
    total.incrementAndGet();
  }

  private void see(String key, String state) {
    if (state == null) {
      current.remove(key);
    } else {
      current.put(key, state);
    }
    states.computeIfAbsent(key, k -> new ArrayList<>()).add(state);
  }

  synchronized Map<String, String> current() {
    return new HashMap<>(current);
  }

  synchronized List<String> violations() {
    List<String> out = new ArrayList<>(violations);
    if (!out.isEmpty()) {
      out.add("calls: " + calls);
    }
    return out;
  }

  synchronized List<Call> calls() {
    return new ArrayList<>(calls);
  }

  synchronized void clearCalls() {
    calls.clear();
  }

  /**
   * The states handlers saw that no one wrote (per key, {@code history} holds every state it may have had; null
   * for a deletion). Weaker than {@link #notSubsequenceOf}, for runs where a write whose call failed may have been
   * applied later than writes made after it.
   */
  synchronized List<String> notWritten(Map<String, List<String>> history) {
    List<String> bad = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : states.entrySet()) {
      List<String> written = history.getOrDefault(e.getKey(), Collections.emptyList());
      for (String state : e.getValue()) {
        if (!written.contains(state)) {
          bad.add(e.getKey() + ": saw " + state + ", never written");
        }
      }
    }
    return bad;
  }

  /**
   * The keys whose sequence of states is not an ordered subsequence of {@code history} (per key, every state
   * it may have had in write order; null for a deletion).
   */
  synchronized List<String> notSubsequenceOf(Map<String, List<String>> history) {
    List<String> bad = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : states.entrySet()) {
      List<String> written = history.getOrDefault(e.getKey(), Collections.emptyList());
      int i = 0;
      for (String state : e.getValue()) {
        while (i < written.size() && !Objects.equals(written.get(i), state)) {
          i++;
        }
        if (i == written.size()) {
          bad.add(e.getKey() + ": saw " + e.getValue() + ", written " + written);
          break;
        }
        i++;
      }
    }
    return bad;
  }
}
