package io.dkv.server.watch;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.Keys;
import io.etcd.jetcd.api.Event;

/**
 * One watch: the keys it covers, its filters, and how far it has been served. Owned by the hub thread.
 *
 * <p>While synced, it has every event up to the hub's revision (or it starts later, at {@code nextRev}); while
 * unsynced, {@code nextRev} is the first revision it still needs, read back from storage.
 */
final class Watcher {

  final long id;
  final WatchStream stream;
  final ByteString key;
  /** Empty: the single key; "\0": every key from {@code key} on; otherwise the end of [key, end). */
  final ByteString end;
  final boolean prevKv;
  final boolean noPut;
  final boolean noDelete;
  final boolean progressNotify;
  final boolean fragment;
  long nextRev;
  boolean synced;

  Watcher(long id, WatchStream stream, ByteString key, ByteString end, long startRev, boolean prevKv,
      boolean noPut, boolean noDelete, boolean progressNotify, boolean fragment) {
    this.id = id;
    this.stream = stream;
    this.key = key;
    this.end = end;
    this.nextRev = startRev;
    this.prevKv = prevKv;
    this.noPut = noPut;
    this.noDelete = noDelete;
    this.progressNotify = progressNotify;
    this.fragment = fragment;
  }

  boolean isFromKey() {
    return Keys.isToEnd(end);
  }

  /** True if {@code k} is in the watched range. */
  boolean covers(ByteString k) {
    return Keys.inRange(key, end, k);
  }

  /** True if the event passes the watcher's filters. */
  boolean wants(Event e) {
    return e.getType() == Event.EventType.PUT ? !noPut : !noDelete;
  }
}
