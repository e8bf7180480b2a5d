package io.dkv.informer;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Hands each change of the cache to every handler's dispatcher. Called with the reflector's lock held. */
final class Distributor<T> {
  private final List<Dispatcher<T>> dispatchers = new CopyOnWriteArrayList<>();

  void changed(String key, T from, T to, boolean initial, boolean finalStateUnknown) {
    for (Dispatcher<T> d : dispatchers) {
      d.changed(key, from, to, initial, finalStateUnknown);
    }
  }

  void add(Dispatcher<T> d) {
    dispatchers.add(d);
  }

  boolean remove(Dispatcher<T> d) {
    return dispatchers.remove(d);
  }

  List<Dispatcher<T>> all() {
    return dispatchers;
  }

  int backlog() {
    int sum = 0;
    for (Dispatcher<T> d : dispatchers) {
      sum += d.backlog();
    }
    return sum;
  }

  void closeAll() {
    for (Dispatcher<T> d : dispatchers) {
      d.remove();
    }
    dispatchers.clear();
  }
}
