package io.dkv.examples.jobworker;

import io.dkv.client.DkvClient;
import io.dkv.examples.Await;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * A job queue in the store, with what both worker designs share: submitting a job ({@code queue/<id>}), reading
 * the queue, claiming a job safely and running it. It counts what the comparison reports: the reads the workers
 * send to the server, lost claims, each job's runs and its pick-up latency (from submission to a won claim).
 *
 * <p>A claim is one transaction: if the job key still has the mod revision the worker saw, delete it and write
 * {@code done/<id>}; otherwise nothing. Of any number of workers racing for a job, exactly one wins.
 */
final class JobQueue {

  private final DkvClient client;
  private final String prefix;
  private final AtomicLong reads = new AtomicLong();
  private final AtomicLong lostClaims = new AtomicLong();
  private final AtomicInteger completed = new AtomicInteger();
  private final Map<String, Long> submittedAt = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
  private final Histogram pickupMicros = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);

  JobQueue(DkvClient client, String prefix) {
    this.client = client;
    this.prefix = prefix;
  }

  /** The prefix of pending jobs. */
  String queuePrefix() {
    return prefix + "queue/";
  }

  String donePrefix() {
    return prefix + "done/";
  }

  /** Puts job {@code id} in the queue; its pick-up latency counts from here. */
  void submit(String id) {
    submittedAt.put(id, System.nanoTime());
    client.put(queuePrefix() + id, "payload of " + id);
  }

  /** Up to {@code limit} pending jobs, oldest first: one read. */
  List<KeyValue> pending(int limit) {
    reads.incrementAndGet();
    GetOption o = GetOption.builder().isPrefix(true).withLimit(limit)
        .withSortField(GetOption.SortTarget.MOD).withSortOrder(GetOption.SortOrder.ASCEND).build();
    return Await.of(client.jetcd().getKVClient().get(bytes(queuePrefix()), o)).getKvs();
  }

  /** Counts a read made on the queue's behalf elsewhere (a watch's initial snapshot). */
  void countRead() {
    reads.incrementAndGet();
  }

  /**
   * Claims the job under {@code key} if it is still at {@code modRevision}: removes it from the queue and marks
   * it done by {@code worker}, atomically. Returns whether this worker won it.
   */
  boolean claim(String key, long modRevision, String worker) {
    String id = key.substring(queuePrefix().length());
    // region claim
    ByteSequence k = bytes(key);
    TxnResponse r = Await.of(client.jetcd().getKVClient().txn()
        .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision)))   // still the job I saw?
        .Then(Op.delete(k, DeleteOption.DEFAULT),                            // then it is mine: dequeue it
            Op.put(bytes(donePrefix() + id), bytes(worker), PutOption.DEFAULT))
        .commit());                                                          // else another worker had it
    // endregion
    if (!r.isSucceeded()) {
      lostClaims.incrementAndGet();
      return false;
    }
    Long at = submittedAt.get(id);
    if (at != null) {
      long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - at);
      synchronized (pickupMicros) {
        pickupMicros.recordValue(Math.min(micros, pickupMicros.getHighestTrackableValue()));
      }
    }
    return true;
  }

  /** Runs a claimed job: here, it only records the run and takes {@code workMillis}. */
  void run(String key, long workMillis) throws InterruptedException {
    String id = key.substring(queuePrefix().length());
    runs.computeIfAbsent(id, x -> new AtomicInteger()).incrementAndGet();
    if (workMillis > 0) {
      Thread.sleep(workMillis);
    }
    completed.incrementAndGet();
  }

  int completed() {
    return completed.get();
  }

  long reads() {
    return reads.get();
  }

  long lostClaims() {
    return lostClaims.get();
  }

  /** How often each job ran. */
  Map<String, Integer> runs() {
    Map<String, Integer> out = new java.util.TreeMap<>();
    runs.forEach((id, n) -> out.put(id, n.get()));
    return out;
  }

  /** The number of {@code done/} keys in the store (read after the run; not counted as a worker read). */
  long doneKeys() {
    return client.list(donePrefix(), io.dkv.client.Codec.bytes()).size();
  }

  /** Pick-up latency percentile, in milliseconds. */
  double pickupMillis(double percentile) {
    synchronized (pickupMicros) {
      return pickupMicros.getTotalCount() == 0 ? 0 : pickupMicros.getValueAtPercentile(percentile) / 1000.0;
    }
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
