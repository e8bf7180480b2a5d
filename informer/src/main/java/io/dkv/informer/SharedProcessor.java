package io.dkv.informer;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Hands each change of the cache to every handler's {@link ProcessorListener} (client-go's sharedProcessor). Called
 * with the reflector's lock held.
 */
final class SharedProcessor<T> {
  private final List<ProcessorListener<T>> listeners = new CopyOnWriteArrayList<>();

  void changed(String key, T from, T to, boolean initial, boolean finalStateUnknown) {
    for (ProcessorListener<T> d : listeners) {
      d.changed(key, from, to, initial, finalStateUnknown);
    }
  }

  void add(ProcessorListener<T> d) {
    listeners.add(d);
  }

  boolean remove(ProcessorListener<T> d) {
    return listeners.remove(d);
  }

  List<ProcessorListener<T>> all() {
    return listeners;
  }

  int backlog() {
    int sum = 0;
    for (ProcessorListener<T> d : listeners) {
      sum += d.backlog();
    }
    return sum;
  }

  void closeAll() {
    for (ProcessorListener<T> d : listeners) {
      d.remove();
    }
    listeners.clear();
  }
}
