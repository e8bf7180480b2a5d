package io.dkv.server.apply;

import com.google.protobuf.Message;
import io.dkv.server.mvcc.Compaction;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import io.etcd.jetcd.api.Event;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit on the local disk: one writer thread takes every request waiting, applies them in order,
 * makes them durable with one synced write, and only then completes their futures. If that write fails, every
 * caller of the group and every later one fails with {@code STOPPED}: nothing is acknowledged that may not be
 * stored. Storage compactions run on a thread of their own, in order. {@link #propose} is thread-safe.
 */
public final class LocalProposer implements Proposer {

  private static final Logger log = LoggerFactory.getLogger(LocalProposer.class);
  private static final int MAX_BATCH = 4096;

  private record Command(Message request, CompletableFuture<Message> future) {}

  /** Makes everything applied since the last call durable with one synced write: {@link MvccStore#commit}. */
  @FunctionalInterface
  interface GroupCommit {
    /** Commits the writes of {@code commands} applied commands; returns their events, in revision order. */
    List<Event> commit(long commands);
  }

  private final LinkedBlockingQueue<Command> queue = new LinkedBlockingQueue<>();
  private final Applier applier;
  private final Consumer<List<Event>> committed;
  private final GroupCommit groupCommit;
  private final Thread writer;
  private final ExecutorService compactor;
  private volatile boolean running = true;
  private volatile Throwable failure;

  /**
   * Starts the writer. {@code committed} is told, on the writer thread and in order, the events of every
   * group of writes once they are durable; it must not block.
   */
  public LocalProposer(MvccStore store, LeaseState leases, Consumer<List<Event>> committed) {
    this(store, leases, committed, store::commit);
  }

  /** As the public constructor, with the group's synced write through {@code groupCommit} (a seam for tests). */
  LocalProposer(MvccStore store, LeaseState leases, Consumer<List<Event>> committed, GroupCommit groupCommit) {
    this.committed = committed;
    this.groupCommit = groupCommit;
    this.applier = new Applier(store, leases);
    this.compactor = Executors.newSingleThreadExecutor(r -> daemon(r, "dkv-compactor"));
    Compaction unfinished = store.unfinishedCompaction();
    if (unfinished != null) {
      compactor.execute(unfinished::run);
    }
    this.writer = daemon(this::run, "dkv-applier");
    writer.start();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  public CompletableFuture<Message> propose(Message request) {
    CompletableFuture<Message> f = new CompletableFuture<>();
    if (!running) {
      f.completeExceptionally(EtcdError.STOPPED.exception());
      return f;
    }
    queue.add(new Command(request, f));
    if (!running) {
      failPending();
    }
    return f;
  }

  private void run() {
    List<Command> batch = new ArrayList<>();
    List<Applier.Applied> results = new ArrayList<>();
    List<EtcdException> errors = new ArrayList<>();
    try {
      while (running) {
        Command first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
        for (Command c : batch) {
          try {
            results.add(applier.apply(c.request()));
            errors.add(null);
          } catch (EtcdException e) {
            results.add(null);
            errors.add(e);
          }
        }
        List<Event> events = groupCommit.commit(batch.size());
        if (!events.isEmpty()) {
          committed.accept(events);
        }
        for (int i = 0; i < batch.size(); i++) {
          complete(batch.get(i).future(), results.get(i), errors.get(i));
        }
        batch.clear();
        results.clear();
        errors.clear();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      // a failed disk write or a broken invariant: stop rather than acknowledge what may not be stored
      log.error("writer failed; no more writes are accepted", t);
      failure = t;
      running = false;
      for (Command c : batch) {
        c.future().completeExceptionally(EtcdError.STOPPED.exception());
      }
    }
    failPending();
  }

  private void complete(CompletableFuture<Message> f, Applier.Applied applied, EtcdException error) {
    if (error != null) {
      f.completeExceptionally(error);
    } else if (applied.compaction() == null) {
      f.complete(applied.response());
    } else {
      // the compaction is durable and in force; removing the history from storage follows
      Compaction c = applied.compaction();
      boolean physical = applied.waitForCompaction();
      compactor.execute(() -> {
        try {
          c.run();
          if (physical) {
            f.complete(applied.response());
          }
        } catch (RuntimeException e) {
          log.error("compaction at {} failed; it resumes at the next start", c.revision(), e);
          if (physical) {
            f.completeExceptionally(e); // a physical compaction was asked for and did not happen
          }
        }
      });
      if (!physical) {
        f.complete(applied.response());
      }
    }
  }

  private void failPending() {
    Command c;
    while ((c = queue.poll()) != null) {
      c.future().completeExceptionally(EtcdError.STOPPED.exception());
    }
  }

  /** The error that stopped the writer, or null while it runs. */
  public Throwable failure() {
    return failure;
  }

  /** Stops taking writes, finishes the batch in progress and any running compaction. */
  @Override
  public void close() {
    running = false;
    try {
      writer.join(TimeUnit.SECONDS.toMillis(30));
      compactor.shutdown();
      compactor.awaitTermination(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failPending();
  }
}
