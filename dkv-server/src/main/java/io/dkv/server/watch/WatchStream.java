package io.dkv.server.watch;

import java.util.HashMap;
import java.util.Map;

/** One client's Watch stream: its watchers by id and its outbound side. Owned by the hub thread. */
final class WatchStream {

  final WatchOutput out;
  final Map<Long, Watcher> watchers = new HashMap<>();
  long nextId;
  boolean progressRequested;
  boolean closed;

  WatchStream(WatchOutput out) {
    this.out = out;
  }

  /** True if the client is taking what we send (its transport has room). */
  boolean ready() {
    return !closed && out.isReady();
  }

  void send(Object r) {
    if (!closed) {
      out.send(r);
    }
  }

  boolean allSynced() {
    for (Watcher w : watchers.values()) {
      if (!w.synced) {
        return false;
      }
    }
    return true;
  }
}
