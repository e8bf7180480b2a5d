package io.dkv.server.raft;

import com.google.protobuf.ByteString;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Puts the commands proposed while earlier ones are on their way into one Raft log entry: Ratis costs about
 * the same per entry whatever it holds (its request, retry-cache and log records, one state-machine hand-off,
 * one RocksDB batch), so under load a batch of many commands costs little more than one. No timer: a command
 * that finds fewer than {@code maxInFlight} entries on their way goes to the sender at once (alone, if it is
 * alone), so a single client waits for nothing but its own round; the commands that arrive while the pipeline is full go
 * together in the next entry, in the order they came. An entry is on its way until it is committed (not
 * until this member applied it: a member that lags must not hold back its own proposals). An entry's failure
 * fails each of its commands.
 */
final class Batcher<R> {

  private record Pending(ByteString command, CompletableFuture<ByteString> answer) {}

  private final Function<List<ByteString>, CompletableFuture<R>> send;
  private final BiFunction<List<ByteString>, R, CompletableFuture<List<ByteString>>> answers;
  private final int maxInFlight;
  private final int maxBytes;
  private final Executor sender;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int inFlight;

  /**
   * @param send proposes one entry holding the commands given, in order, and completes once it is committed
   *     (or failed): the entry is no longer on its way, whether or not this member applied it yet
   * @param answers the commands' answers in the same order, once this member applied the entry
   * @param sender the one thread entries are proposed from, in order: never a gRPC event loop (Ratis's client
   *     may block its caller while requests are outstanding) nor a thread of Ratis's (Ratis may block its
   *     caller on its own executors)
   */
  Batcher(Function<List<ByteString>, CompletableFuture<R>> send,
      BiFunction<List<ByteString>, R, CompletableFuture<List<ByteString>>> answers, Executor sender,
      int maxInFlight, int maxBytes) {
    this.send = send;
    this.sender = sender;
    this.answers = answers;
    this.maxInFlight = maxInFlight;
    this.maxBytes = maxBytes;
  }

  /** Proposes {@code command}; completes with its answer once applied here. */
  CompletableFuture<ByteString> submit(ByteString command) {
    return submitAll(List.of(command)).get(0);
  }

  /** Proposes {@code commands}, queued together in their order; each completes with its answer once applied here. */
  List<CompletableFuture<ByteString>> submitAll(List<ByteString> commands) {
    List<CompletableFuture<ByteString>> answers = new ArrayList<>(commands.size());
    synchronized (this) {
      for (ByteString command : commands) {
        Pending p = new Pending(command, new CompletableFuture<>());
        queue.add(p);
        answers.add(p.answer);
      }
      sendWhileRoom();
    }
    return answers;
  }

  /**
   * Hands entries to the sender while the pipeline has room (caller holds the lock, and the sender is one
   * thread: entries reach the log in the order their commands came).
   */
  private void sendWhileRoom() {
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      inFlight++;
      List<Pending> batch = new ArrayList<>(Math.min(queue.size(), 64));
      List<ByteString> commands = new ArrayList<>(Math.min(queue.size(), 64));
      int bytes = 0;
      while (!queue.isEmpty() && (batch.isEmpty() || bytes + queue.peek().command.size() <= maxBytes)) {
        Pending next = queue.poll();
        bytes += next.command.size();
        batch.add(next);
        commands.add(next.command);
      }
      try {
        sender.execute(() -> dispatch(batch, commands));
      } catch (RuntimeException e) { // the sender stopped: this member is closing
        committed(batch, commands, null, e);
      }
    }
  }

  /** Proposes one entry (on the sender's thread). */
  private void dispatch(List<Pending> batch, List<ByteString> commands) {
    CompletableFuture<R> sent;
    try {
      sent = send.apply(commands);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((reply, e) -> committed(batch, commands, reply, e));
  }

  private void committed(List<Pending> batch, List<ByteString> commands, R reply, Throwable e) {
    synchronized (this) {
      inFlight--;
      sendWhileRoom(); // the next entry first: it is on its way while these answers are sent
    }
    CompletableFuture<List<ByteString>> applied;
    if (e != null) {
      applied = CompletableFuture.failedFuture(e);
    } else {
      try {
        applied = answers.apply(commands, reply);
      } catch (RuntimeException failure) {
        applied = CompletableFuture.failedFuture(failure);
      }
    }
    applied.whenComplete((answered, failure) -> {
      for (int i = 0; i < batch.size(); i++) {
        if (failure != null) {
          batch.get(i).answer.completeExceptionally(failure);
        } else {
          batch.get(i).answer.complete(answered.get(i));
        }
      }
    });
  }
}
