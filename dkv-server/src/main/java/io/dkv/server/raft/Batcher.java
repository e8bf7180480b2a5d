package io.dkv.server.raft;

import com.google.protobuf.ByteString;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Puts the commands proposed while earlier ones are on their way into one Raft log entry: Ratis costs about
 * the same per entry whatever it holds (its request, retry-cache and log records, one state-machine hand-off,
 * one RocksDB batch), so under load a batch of many commands costs little more than one. No timer: a command
 * that finds fewer than {@code maxInFlight} entries on their way is sent at once (alone, if it is alone), so a
 * single client waits for nothing but its own round; the commands that arrive while the pipeline is full go
 * together in the next entry, in the order they came. An entry's failure fails each of its commands.
 */
final class Batcher {

  private record Pending(ByteString command, CompletableFuture<ByteString> answer) {}

  private final Function<List<ByteString>, CompletableFuture<List<ByteString>>> send;
  private final int maxInFlight;
  private final int maxBytes;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int inFlight;

  /**
   * @param send proposes one entry holding the commands given, in order, and completes with their answers in
   *     the same order once the entry is applied here
   */
  Batcher(Function<List<ByteString>, CompletableFuture<List<ByteString>>> send, int maxInFlight, int maxBytes) {
    this.send = send;
    this.maxInFlight = maxInFlight;
    this.maxBytes = maxBytes;
  }

  /** Proposes {@code command}; completes with its answer once applied here. */
  CompletableFuture<ByteString> submit(ByteString command) {
    Pending p = new Pending(command, new CompletableFuture<>());
    synchronized (this) {
      queue.add(p);
      sendWhileRoom();
    }
    return p.answer;
  }

  /**
   * Sends entries while the pipeline has room (caller holds the lock: entries reach the log in the order their
   * commands came).
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
      CompletableFuture<List<ByteString>> sent;
      try {
        sent = send.apply(commands);
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(e);
      }
      sent.whenComplete((answers, e) -> answered(batch, answers, e));
    }
  }

  private void answered(List<Pending> batch, List<ByteString> answers, Throwable e) {
    synchronized (this) {
      inFlight--;
      sendWhileRoom(); // the next entry first: its round starts before these answers are sent
    }
    for (int i = 0; i < batch.size(); i++) {
      if (e != null) {
        batch.get(i).answer.completeExceptionally(e);
      } else {
        batch.get(i).answer.complete(answers.get(i));
      }
    }
  }
}
