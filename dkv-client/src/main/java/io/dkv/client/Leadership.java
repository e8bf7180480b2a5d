package io.dkv.client;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leadership won in an {@link Election}. It is lost when the lease is lost or the leader key is deleted (by an
 * operator, say); then {@link #lost()} completes and the listeners run, at once. {@link #resign()} gives it up
 * (that is not a loss).
 *
 * <pre>{@code
 * Leadership l = election.campaign("node-1");
 * l.onLost(() -> scheduler.stop());
 * FencedWrite w = l.proclaim("node-1, epoch 2"); // rejected if no longer leader
 * l.resign();
 * }</pre>
 */
public final class Leadership implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Leadership.class);

  private final LockHandle handle;
  private final LossSignal lost = new LossSignal();
  private volatile boolean resigned;
  private volatile Subscription keyWatch;

  private Leadership(LockHandle handle) {
    this.handle = handle;
  }

  static Leadership start(DkvClient client, LockHandle handle) {
    Leadership l = new Leadership(handle);
    handle.lease().onLost(() -> l.lose("lease lost"));
    l.keyWatch = client.watchKey(handle.key(), Codec.bytes(),
        WatchOptions.builder().startRevision(handle.fencingToken().revision() + 1).build(), e -> {
          if (e.type() == WatchEvent.Type.DELETE) {
            l.lose("leader key deleted");
          }
        });
    return l;
  }

  /** The leader key. */
  public String key() {
    return handle.key();
  }

  /** The leader key's create revision: larger for every later leader. */
  public long revision() {
    return handle.fencingToken().revision();
  }

  /** The leader key and its create revision, for writes fenced by this leadership. */
  public FencingToken fencingToken() {
    return handle.fencingToken();
  }

  /** Whether this leadership is neither lost nor resigned. */
  public boolean isLeader() {
    return !resigned && !lost.isLost();
  }

  /** Completes when leadership is lost (never on resignation). */
  public CompletableFuture<Void> lost() {
    return lost.future();
  }

  /** Runs {@code listener} when leadership is lost (at once if it already is). */
  public void onLost(Runnable listener) {
    lost.onLost(listener);
  }

  /** The lease that keeps this leadership; for tests. */
  Lease handleLease() {
    return handle.lease();
  }

  /** Replaces the leader's value, only while still leader. */
  public FencedWrite proclaim(String value) {
    return handle.put(handle.key(), value);
  }

  /** Writes {@code value} under {@code key} only while still leader (fenced by the leader key). */
  public FencedWrite put(String key, String value) {
    return handle.put(key, value);
  }

  /** Gives up leadership: deletes the leader key and revokes the lease; the next candidate leads. */
  public void resign() {
    if (resigned) {
      return;
    }
    resigned = true;
    Subscription s = keyWatch;
    if (s != null) {
      s.close();
    }
    handle.release();
  }

  /** Same as {@link #resign()}. */
  @Override
  public void close() {
    resign();
  }

  private void lose(String why) {
    if (resigned || lost.isLost()) {
      return;
    }
    log.warn("leadership {} lost: {}", handle.key(), why);
    Subscription s = keyWatch;
    if (s != null) {
      s.close();
    }
    if (lost.fire()) {
      handle.lease().close();
    }
  }
}
