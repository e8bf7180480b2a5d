package io.dkv.server.linearizability;

import com.google.protobuf.ByteString;
import io.dkv.server.linearizability.Op.Kind;
import io.dkv.server.linearizability.Op.Output;
import io.dkv.server.testing.Channels;
import io.dkv.testing.FaultyCluster;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.DeleteRangeResponse;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Clients calling a cluster concurrently on a few keys, each call recorded as an {@link Op}: linearizable get,
 * put of a unique value, compare-and-set by txn (on the value or the mod_revision the client saw last, then a put,
 * else a get) and delete, each with a deadline; any error leaves the call's outcome unknown. Client {@code c} talks
 * to member {@code c % size} only, so faults of that member reach it. Calls go over etcd's gRPC API (jetcd's stubs)
 * one RPC per call: jetcd's {@code Client} retries some calls itself, which would make one recorded call several.
 */
final class Workload implements AutoCloseable {
  static final String PREFIX = "lin/";

  private final FaultyCluster cluster;
  private final List<String> keys = new ArrayList<>();
  private final Duration timeout;
  private final ScheduledExecutorService pool;
  private final Queue<Op> history = new ConcurrentLinkedQueue<>();
  private final AtomicInteger ids = new AtomicInteger();
  private final List<Caller> callers = new ArrayList<>();
  private final long t0 = System.nanoTime();
  private volatile boolean stopped;

  Workload(FaultyCluster cluster, int clients, int keyCount, Duration timeout, long seed) {
    this.cluster = cluster;
    this.timeout = timeout;
    for (int k = 0; k < keyCount; k++) {
      keys.add(PREFIX + "k" + k);
    }
    this.pool = Executors.newScheduledThreadPool(clients + 1);
    for (int c = 0; c < clients; c++) {
      callers.add(new Caller(c, c % cluster.size(), null, new Random(seed + c)));
    }
  }

  /**
   * Adds a client whose gets go to {@code member} as serializable reads (answered from that member's state, which
   * may be stale) but are recorded as linearizable ones, while {@code active} is set: a fault the checker must catch.
   */
  void addStaleReader(int member, BooleanSupplier active) {
    callers.add(new Caller(callers.size(), member, active, new Random(callers.size())));
  }

  void start() {
    callers.forEach(c -> pool.execute(c::next));
  }

  /** Stops issuing calls and waits for those in flight. */
  void stop() throws InterruptedException {
    stopped = true;
    pool.shutdown();
    if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("workload calls did not end");
    }
  }

  /** A linearizable get of every key from every running member, recorded as calls of the history. */
  void finalReads() {
    for (int m = 0; m < cluster.size(); m++) {
      Caller reader = new Caller(100 + m, m, null, new Random(m));
      for (String key : keys) {
        reader.call(Kind.GET, key);
      }
      reader.close();
    }
  }

  List<String> keys() {
    return keys;
  }

  List<Op> history() {
    return List.copyOf(history);
  }

  long callsDone() {
    return history.size();
  }

  @Override
  public void close() {
    stopped = true;
    pool.shutdownNow();
    callers.forEach(Caller::close);
  }

  private static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** One client: its channel, what it saw last of each key (for its cas calls), its random choices. */
  private final class Caller {
    final int id;
    final boolean staleReads;
    final BooleanSupplier active;
    final Random random;
    final ManagedChannel channel;
    final Map<String, KeyValue> lastSeen = new HashMap<>();
    int seq;

    Caller(int id, int member, BooleanSupplier staleReadsWhile, Random random) {
      this.id = id;
      this.staleReads = staleReadsWhile != null;
      this.active = staleReadsWhile != null ? staleReadsWhile : () -> true;
      this.random = random;
      this.channel = Channels.open(URI.create(cluster.endpoint(member)).getPort());
    }

    void next() {
      if (stopped) {
        return;
      }
      long delay = 20;
      if (active.getAsBoolean()) {
        int r = random.nextInt(100);
        Kind kind = staleReads || r < 40 ? Kind.GET : r < 65 ? Kind.PUT : r < 75 ? Kind.CAS_VALUE
            : r < 85 ? Kind.CAS_REV : Kind.DELETE;
        boolean ok = call(kind, keys.get(random.nextInt(keys.size())));
        delay = !ok ? 100 : staleReads ? 20 : 0;
      }
      try {
        pool.schedule(this::next, delay, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException stopping) {
        // stop() came meanwhile
      }
    }

    /** Makes one call and records it; whether it got a response. */
    boolean call(Kind kind, String key) {
      String value = kind == Kind.GET || kind == Kind.DELETE ? null : "c" + id + "-" + seq++;
      KeyValue seen = lastSeen.get(key);
      String expectValue = kind == Kind.CAS_VALUE ? (seen != null ? seen.getValue().toStringUtf8() : "none") : null;
      long expectRev = kind == Kind.CAS_REV && seen != null ? seen.getModRevision() : 0;
      long invoke = System.nanoTime();
      Output out = null;
      try {
        out = send(kind, key, value, expectValue, expectRev);
      } catch (RuntimeException unknownOutcome) {
        channel.resetConnectBackoff();
      }
      long response = out == null ? Op.NO_RESPONSE : System.nanoTime();
      history.add(new Op(ids.getAndIncrement(), id, key, kind, value, expectValue, expectRev, invoke, response, out));
      return out != null;
    }

    private Output send(Kind kind, String key, String value, String expectValue, long expectRev) {
      KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel)
          .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
      switch (kind) {
        case GET -> {
          RangeResponse r = kv.range(RangeRequest.newBuilder().setKey(bs(key)).setSerializable(staleReads).build());
          return read(key, r);
        }
        case PUT -> {
          return Output.wrote(kv.put(PutRequest.newBuilder().setKey(bs(key)).setValue(bs(value)).build())
              .getHeader().getRevision());
        }
        case DELETE -> {
          DeleteRangeResponse r = kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(bs(key)).build());
          lastSeen.remove(key);
          return Output.deleted(r.getDeleted() > 0, r.getHeader().getRevision());
        }
        default -> {
          Compare.Builder cmp = Compare.newBuilder().setKey(bs(key)).setResult(Compare.CompareResult.EQUAL);
          if (kind == Kind.CAS_VALUE) {
            cmp.setTarget(Compare.CompareTarget.VALUE).setValue(bs(expectValue));
          } else {
            cmp.setTarget(Compare.CompareTarget.MOD).setModRevision(expectRev);
          }
          TxnResponse r = kv.txn(TxnRequest.newBuilder().addCompare(cmp)
              .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bs(key))
                  .setValue(bs(value))))
              .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(bs(key))))
              .build());
          if (r.getSucceeded()) {
            lastSeen.remove(key);
            return Output.wrote(r.getHeader().getRevision());
          }
          Output o = read(key, r.getResponses(0).getResponseRange());
          return Output.casFailed(o.value(), o.rev(), o.version());
        }
      }
    }

    private Output read(String key, RangeResponse r) {
      if (r.getKvsCount() == 0) {
        lastSeen.remove(key);
        return Output.read(null, 0, 0);
      }
      KeyValue kv = r.getKvs(0);
      lastSeen.put(key, kv);
      return Output.read(kv.getValue().toStringUtf8(), kv.getModRevision(), kv.getVersion());
    }

    void close() {
      Channels.close(channel);
    }
  }
}
