package io.dkv.client;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A mutual-exclusion lock shared by every client using the same name, with etcd's recipe (so it interoperates
 * with etcd's own lock clients): each contender puts {@code name/<lease id>} under a lease of the given TTL and
 * owns the lock once no key under {@code name/} has a smaller create revision. Waiters are served in arrival
 * order. If the owner dies its lease expires, its key goes, and the next waiter gets the lock.
 *
 * <pre>{@code
 * DistributedLock lock = client.lock("locks/orders", Duration.ofSeconds(10));
 * try (LockHandle h = lock.acquire()) {            // or tryAcquire(timeout), acquireAsync()
 *   h.put("orders/last", "42");                    // applied only while the lock is held
 * }
 * }</pre>
 */
public final class DistributedLock {

  private final DkvClient client;
  private final String name;
  private final Duration ttl;

  DistributedLock(DkvClient client, String name, Duration ttl) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("empty lock name");
    }
    this.client = client;
    this.name = name;
    this.ttl = ttl;
  }

  /** The lock's name: the prefix its keys live under (followed by a slash). */
  public String name() {
    return name;
  }

  /** Waits (interruptibly, without limit) until the lock is held. */
  public LockHandle acquire() throws InterruptedException {
    Attempt a = new Attempt(new byte[0]);
    try {
      return a.result.get();
    } catch (ExecutionException e) {
      throw DkvClient.unwrap(e.getCause());
    } catch (InterruptedException e) {
      if (!a.abandon()) {
        a.result.join().release();
      }
      throw e;
    }
  }

  /** Waits at most {@code timeout} for the lock; empty if it was not acquired in time (nothing is left behind). */
  public Optional<LockHandle> tryAcquire(Duration timeout) throws InterruptedException {
    Attempt a = new Attempt(new byte[0]);
    try {
      return Optional.of(a.result.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
    } catch (TimeoutException e) {
      return a.abandon() ? Optional.empty() : Optional.of(a.result.join()); // acquired just in time
    } catch (ExecutionException e) {
      throw DkvClient.unwrap(e.getCause());
    } catch (InterruptedException e) {
      if (!a.abandon()) {
        a.result.join().release();
      }
      throw e;
    }
  }

  /**
   * Completes with the handle once the lock is held. Cancelling the future gives up the attempt (its key and
   * lease are removed).
   */
  public CompletableFuture<LockHandle> acquireAsync() {
    return new Attempt(new byte[0]).result;
  }

  /** Like {@link #acquireAsync()}, storing {@code value} in the lock key (an election's candidate value). */
  CompletableFuture<LockHandle> acquireAsync(byte[] value) {
    return new Attempt(value).result;
  }

  /** One contender's way to the lock. */
  private final class Attempt {
    final CompletableFuture<LockHandle> result = new CompletableFuture<>();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private volatile Lease lease;
    private volatile ListWatch.Watch watcher;
    private final byte[] value;

    Attempt(byte[] value) {
      this.value = value;
      result.whenComplete((h, e) -> {
        if (e != null) {
          cleanUp(); // cancelled or failed
        }
      });
      client.leases().grantAsync(ttl).whenComplete((l, e) -> {
        if (e != null) {
          result.completeExceptionally(e);
          return;
        }
        lease = l;
        if (cancelled.get() || result.isDone()) {
          l.close();
          return;
        }
        l.onLost(() -> fail(new DkvException("lease lost while waiting for lock " + name)));
        enqueue(l);
      });
    }

    private void enqueue(Lease l) {
      String myKey = name + "/" + Long.toHexString(l.id());
      ByteSequence k = Keys.bytes(myKey);
      client.jetcd().getKVClient().txn()
          .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
          .Then(Op.put(k, ByteSequence.from(value), PutOption.builder().withLeaseId(l.id()).build()))
          .Else(Op.get(k, GetOption.DEFAULT))
          .commit()
          .whenComplete((r, e) -> {
            if (e != null) {
              fail(e);
              return;
            }
            long myRev = r.isSucceeded() ? r.getHeader().getRevision()
                : r.getGetResponses().get(0).getKvs().get(0).getCreateRevision();
            waitTurn(myKey, myRev);
          });
    }

    /** Waits until no key of the lock was created before {@code myRev}. */
    private void waitTurn(String myKey, long myRev) {
      if (cancelled.get()) {
        return;
      }
      GetOption last = GetOption.builder().isPrefix(true).withMaxCreateRevision(myRev - 1)
          .withSortField(GetOption.SortTarget.CREATE).withSortOrder(GetOption.SortOrder.DESCEND).withLimit(1)
          .build();
      client.jetcd().getKVClient().get(Keys.bytes(name + "/"), last).whenComplete((r, e) -> {
        if (e != null) {
          fail(e);
          return;
        }
        if (r.getKvs().isEmpty()) {
          LockHandle h = new LockHandle(client, myKey, myRev, lease);
          if (!result.complete(h)) {
            h.release();
          }
          return;
        }
        KeyValue ahead = r.getKvs().get(0);
        awaitDeletion(ahead.getKey(), r.getHeader().getRevision(), () -> waitTurn(myKey, myRev));
      });
    }

    /**
     * Waits for the deletion of {@code key} after {@code seenAt}, then runs {@code then}; also after any failure
     * of the watch (a lost member, say), since {@code then} reads again.
     */
    private void awaitDeletion(ByteSequence key, long seenAt, Runnable then) {
      AtomicBoolean done = new AtomicBoolean();
      Runnable once = () -> {
        if (done.compareAndSet(false, true)) {
          ListWatch.Watch w = watcher;
          if (w != null) {
            w.close();
          }
          then.run();
        }
      };
      ListWatch<byte[]> source = ListWatch.key(client, Keys.string(key), Codec.bytes()).build();
      watcher = source.watch(seenAt, new ListWatch.Sink<>() {
        @Override
        public void changes(List<ListWatch.Change<byte[]>> changes, long serverRevision) {
          if (changes.stream().anyMatch(c -> c.type() == ListWatch.Change.Type.DELETED)) {
            once.run();
          }
        }

        @Override
        public void historyGone(long compactRevision) {
          once.run();
        }

        @Override
        public void closed(Throwable cause) {
          once.run(); // look again: waitTurn reads the line anew
        }
      });
      if (cancelled.get()) {
        watcher.close();
      }
    }

    private void fail(Throwable e) {
      result.completeExceptionally(e);
    }

    /** Gives up unless the lock was already acquired; returns false if it was (the caller owns the handle). */
    boolean abandon() {
      return result.cancel(false) || result.isCompletedExceptionally();
    }

    /** Removes this attempt's watch, key and lease, once. */
    private void cleanUp() {
      if (!cancelled.compareAndSet(false, true)) {
        return;
      }
      ListWatch.Watch w = watcher;
      if (w != null) {
        w.close();
      }
      Lease l = lease;
      if (l != null) {
        l.close();
      }
    }
  }
}
