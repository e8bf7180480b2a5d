package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.CompactionResponse;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.DeleteRangeResponse;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.PutResponse;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sends one seeded random sequence of KV requests, many of them malformed (empty keys, inverted ranges,
 * negative, future and compacted revisions, oversized values and txns, duplicate keys in txn branches,
 * ignore_value / ignore_lease misuse, unknown leases, empty ops, bad compactions), to a fresh DKV and a fresh
 * real etcd, and requires the same outcome for every request: equal responses (ids and term aside) or the
 * same gRPC status code and description. Both must still serve afterwards.
 *
 * <p>Reproduce a run with {@code -Dfuzz.seed=<seed>} (the seed is printed); {@code -Dfuzz.requests=N}
 * changes the length.
 */
class BadInputFuzzTest {

  private static final int MAX_REQUEST_BYTES = 1536 * 1024; // etcd's and DKV's default --max-request-bytes
  private static final int GRPC_LIMIT = MAX_REQUEST_BYTES + 512 * 1024;
  private static final int KEYS = 10;
  /** Etcd's LEASE compare target and its lease field, which jetcd's older proto lacks. */
  private static final int LEASE_TARGET = 4;
  private static final int LEASE_FIELD = 8; // ranges hold at most 12 keys: Go sorts those stably, as DKV does

  @TempDir
  Path dir;

  /** One outcome: a response with the ids cleared, or an error's code and description. */
  private record Outcome(Message response, String error) {
    @Override
    public String toString() {
      if (error != null) {
        return "error " + error;
      }
      String s = response.toString();
      return s.length() > 2000 ? s.substring(0, 2000) + "...(" + s.length() + " chars)" : s;
    }
  }

  private interface Call {
    Message on(KVGrpc.KVBlockingStub kv);
  }

  private record Req(String what, Call call) {}

  @Test
  void malformedRequestsGetEtcdsAnswers() throws Exception {
    long seed = Long.getLong("fuzz.seed", System.nanoTime());
    int count = Integer.getInteger("fuzz.requests", 400);
    System.out.println("BadInputFuzzTest seed: " + seed + " (rerun with -Dfuzz.seed=" + seed + ")");
    try (EtcdProcess etcd = EtcdProcess.start();
        DkvServer dkv = DkvServer.builder().dataDir(dir.resolve("dkv")).port(0).start()) {
      ManagedChannel etcdCh = channel(etcd.port());
      ManagedChannel dkvCh = channel(dkv.port());
      try {
        KVGrpc.KVBlockingStub etcdKv = KVGrpc.newBlockingStub(etcdCh);
        KVGrpc.KVBlockingStub dkvKv = KVGrpc.newBlockingStub(dkvCh);
        Gen gen = new Gen(new Random(seed));
        List<String> diffs = new ArrayList<>();
        int errors = 0;
        java.util.Map<String, Integer> tally = new java.util.TreeMap<>();
        for (int i = 0; i < count && diffs.size() < 10; i++) {
          Req req = gen.next();
          Outcome e = run(etcdKv, req);
          Outcome d = run(dkvKv, req);
          if (e.error() != null) {
            errors++;
          }
          tally.merge(e.error() == null ? "OK" : e.error(), 1, Integer::sum);
          if (!e.equals(d)) {
            diffs.add("#" + i + " " + req.what() + "\n  etcd: " + e + "\n  dkv:  " + d);
          }
          gen.observe(req, e);
        }
        // the same history must give the same HashKV (etcd's hash of its stored revisions)
        for (long r : new long[] {0, gen.rev, gen.compacted, gen.compacted + 1, gen.rev / 2, -1, -2, gen.rev + 1}) {
          Outcome e = hashKv(etcdCh, r);
          Outcome d = hashKv(dkvCh, r);
          if (!e.equals(d)) {
            diffs.add("hashKV " + r + "\n  etcd: " + e + "\n  dkv:  " + d);
          }
        }
        System.out.println("BadInputFuzzTest outcomes: " + tally);
        assertTrue(diffs.isEmpty(), "seed " + seed + ": DKV answered differently from etcd:\n"
            + String.join("\n", diffs));
        // the generator must really exercise both outcomes
        assertTrue(errors > count / 10 && errors < count * 9 / 10, "errors: " + errors + " of " + count);

        for (KVGrpc.KVBlockingStub kv : List.of(etcdKv, dkvKv)) {
          ByteString k = ByteString.copyFromUtf8("still-serving");
          kv(kv).put(PutRequest.newBuilder().setKey(k).setValue(ByteString.copyFromUtf8("yes")).build());
          RangeResponse r = kv(kv).range(RangeRequest.newBuilder().setKey(k).build());
          assertEquals("yes", r.getKvs(0).getValue().toStringUtf8());
        }
      } finally {
        etcdCh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        dkvCh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static ManagedChannel channel(int port) {
    // the client's outbound size is unlimited by default; inbound must take big ranges
    return NettyChannelBuilder.forTarget("127.0.0.1:" + port).usePlaintext()
        .maxInboundMessageSize(64 * 1024 * 1024).build();
  }

  private static KVGrpc.KVBlockingStub kv(KVGrpc.KVBlockingStub kv) {
    return kv.withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static Outcome run(KVGrpc.KVBlockingStub kv, Req req) {
    try {
      return new Outcome(normalize(req.call().on(kv(kv))), null);
    } catch (StatusRuntimeException e) {
      return new Outcome(null, e.getStatus().getCode() + " \"" + e.getStatus().getDescription() + "\"");
    }
  }

  private static Outcome hashKv(ManagedChannel ch, long rev) {
    try {
      return new Outcome(normalize(MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
          .hashKV(HashKVRequest.newBuilder().setRevision(rev).build())), null);
    } catch (StatusRuntimeException e) {
      return new Outcome(null, e.getStatus().getCode() + " \"" + e.getStatus().getDescription() + "\"");
    }
  }

  /** Clears what legitimately differs: the top-level header's cluster id, member id and raft term. */
  private static Message normalize(Message m) {
    var field = m.getDescriptorForType().findFieldByName("header");
    return m.toBuilder().setField(field, clear((ResponseHeader) m.getField(field))).build();
  }

  private static ResponseHeader clear(ResponseHeader h) {
    return h.toBuilder().clearClusterId().clearMemberId().clearRaftTerm().build();
  }

  /** The random requests, over a small fixed key space so that both servers see the same history. */
  private static final class Gen {
    private final Random rnd;
    private long rev = 1; // etcd's revision after the last request
    private long compacted = 0;
    private int big; // oversized requests so far (they are slow: keep a few)

    Gen(Random rnd) {
      this.rnd = rnd;
    }

    /** Tracks the revision and compaction from etcd's answers. */
    void observe(Req req, Outcome etcd) {
      if (etcd.response() == null) {
        return;
      }
      long r = ((ResponseHeader) etcd.response().getField(
          etcd.response().getDescriptorForType().findFieldByName("header"))).getRevision();
      rev = Math.max(rev, r);
      if (etcd.response() instanceof CompactionResponse && req.what().startsWith("compact ")) {
        compacted = Long.parseLong(req.what().split(" ")[1]);
      }
    }

    Req next() {
      int p = rnd.nextInt(100);
      if (p < 4 && big < 6) {
        big++;
        return oversized();
      }
      if (p < 30) {
        RangeRequest r = range();
        return new Req("range " + brief(r), kv -> kv.range(r));
      } else if (p < 55) {
        PutRequest r = put();
        return new Req("put " + brief(r), kv -> kv.put(r));
      } else if (p < 65) {
        DeleteRangeRequest r = delete();
        return new Req("delete " + brief(r), kv -> kv.deleteRange(r));
      } else if (p < 96) {
        TxnRequest r = txn(0);
        while (panicsEtcd(r)) {
          r = txn(0);
        }
        TxnRequest txn = r;
        return new Req("txn " + brief(txn), kv -> kv.txn(txn));
      } else {
        CompactionRequest r = CompactionRequest.newBuilder().setRevision(revision(true))
            .setPhysical(rnd.nextBoolean()).build();
        return new Req("compact " + r.getRevision() + " physical=" + r.getPhysical(), kv -> kv.compact(r));
      }
    }

    /**
     * Etcd (3.4 to 3.6) checks a txn's ignore_value / ignore_lease puts against the state before the txn, and
     * its duplicate-key check takes a delete's range_end "\0" for an empty range: such a put of a key that a
     * delete-from-key earlier in the txn removed fails half applied, and etcd panics (again on every restart).
     * There is no answer of etcd's to compare with; DKV answers "key not found" and changes nothing
     * (KvOpsTest.anIgnoreValuePutOfAKeyDeletedEarlierInTheTxnFailsBeforeTheDelete). Any txn holding both is
     * left out.
     */
    private static boolean panicsEtcd(TxnRequest t) {
      List<RequestOp> ops = new ArrayList<>();
      collect(t, ops);
      boolean fromKeyDelete = ops.stream().anyMatch(op -> op.hasRequestDeleteRange()
          && op.getRequestDeleteRange().getRangeEnd().equals(ByteString.copyFrom(new byte[] {0})));
      boolean ignoringPut = ops.stream().anyMatch(op -> op.hasRequestPut()
          && (op.getRequestPut().getIgnoreValue() || op.getRequestPut().getIgnoreLease()));
      return fromKeyDelete && ignoringPut;
    }

    private static void collect(TxnRequest t, List<RequestOp> ops) {
      for (List<RequestOp> branch : List.of(t.getSuccessList(), t.getFailureList())) {
        for (RequestOp op : branch) {
          ops.add(op);
          if (op.hasRequestTxn()) {
            collect(op.getRequestTxn(), ops);
          }
        }
      }
    }

    /**
     * Requests around the size limits. Etcd measures the request wrapped in its raft entry (an id of varying
     * length) against --max-request-bytes; DKV approximates that wrapping with a fixed overhead, so the
     * sizes stay at least 1 KiB away from the exact limit, where both must agree.
     */
    private Req oversized() {
      ByteString key = key();
      int size = switch (rnd.nextInt(4)) {
        case 0 -> MAX_REQUEST_BYTES - 1024 - rnd.nextInt(4096); // fits
        case 1 -> MAX_REQUEST_BYTES + 1024 + rnd.nextInt(4096); // "request is too large"
        case 2 -> GRPC_LIMIT - 1024 - rnd.nextInt(4096); // too large, still under gRPC's limit
        default -> GRPC_LIMIT + 1024 + rnd.nextInt(4096); // gRPC's RESOURCE_EXHAUSTED
      };
      ByteString value = ByteString.copyFrom(new byte[size]);
      return switch (rnd.nextInt(3)) {
        case 0 -> {
          PutRequest r = PutRequest.newBuilder().setKey(key).setValue(value).build();
          yield new Req("put " + key.toStringUtf8() + " value of " + size + " bytes", kv -> kv.put(r));
        }
        case 1 -> {
          TxnRequest r = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(
              PutRequest.newBuilder().setKey(key).setValue(value))).build();
          yield new Req("txn put " + key.toStringUtf8() + " value of " + size + " bytes", kv -> kv.txn(r));
        }
        default -> {
          // a range is not a raft request: only gRPC's limit applies
          RangeRequest r = RangeRequest.newBuilder().setKey(key).setRangeEnd(value).build();
          yield new Req("range " + key.toStringUtf8() + " range_end of " + size + " bytes", kv -> kv.range(r));
        }
      };
    }

    ByteString key() {
      int p = rnd.nextInt(100);
      if (p < 4) {
        return ByteString.EMPTY;
      }
      if (p < 7) {
        return ByteString.copyFrom(new byte[] {0});
      }
      return ByteString.copyFromUtf8("k" + rnd.nextInt(KEYS));
    }

    ByteString rangeEnd(ByteString key) {
      return switch (rnd.nextInt(8)) {
        case 0, 1, 2 -> ByteString.EMPTY;
        case 3 -> ByteString.copyFrom(new byte[] {0}); // from key
        case 4 -> prefixEnd(key);
        case 5 -> ByteString.copyFromUtf8("k"); // before every "kN": inverted
        default -> ByteString.copyFromUtf8("k" + rnd.nextInt(KEYS + 1)); // maybe < key
      };
    }

    private static ByteString prefixEnd(ByteString key) {
      byte[] b = key.toByteArray();
      for (int i = b.length - 1; i >= 0; i--) {
        if (b[i] != (byte) 0xff) {
          b[i]++;
          return ByteString.copyFrom(b, 0, i + 1);
        }
      }
      return ByteString.copyFrom(new byte[] {0});
    }

    /** A revision: current, negative, future, compacted or within the history. */
    long revision(boolean forCompact) {
      return switch (rnd.nextInt(forCompact ? 7 : 10)) {
        case 0 -> -1 - rnd.nextInt(3);
        case 1 -> rev + 1 + rnd.nextInt(3);
        case 2 -> Math.max(0, compacted - rnd.nextInt(2));
        case 3 -> rev;
        case 4, 5, 6 -> compacted + rnd.nextInt((int) Math.max(1, rev - compacted + 1));
        default -> 0;
      };
    }

    RangeRequest range() {
      ByteString key = key();
      RangeRequest.Builder b = RangeRequest.newBuilder().setKey(key).setRangeEnd(rangeEnd(key));
      if (rnd.nextInt(3) == 0) {
        b.setRangeEnd(ByteString.copyFrom(new byte[] {0})).setKey(ByteString.copyFromUtf8("k"));
      }
      if (rnd.nextInt(3) == 0) {
        b.setLimit(rnd.nextInt(8) - 2);
      }
      if (rnd.nextInt(3) == 0) {
        b.setRevision(revision(false));
      }
      if (rnd.nextInt(3) == 0) {
        // only known enum values: etcd 3.4 panics (and exits) on an unknown sort target, where 3.5 answers
        // "invalid sort option"; there is no answer of 3.4's to compare with
        b.setSortOrderValue(rnd.nextInt(3)).setSortTargetValue(rnd.nextInt(5));
      }
      b.setKeysOnly(rnd.nextInt(6) == 0).setCountOnly(rnd.nextInt(6) == 0).setSerializable(rnd.nextInt(4) == 0);
      if (rnd.nextInt(6) == 0) {
        long r = 1 + rnd.nextInt((int) rev);
        switch (rnd.nextInt(4)) {
          case 0 -> b.setMinModRevision(r);
          case 1 -> b.setMaxModRevision(r);
          case 2 -> b.setMinCreateRevision(r);
          default -> b.setMaxCreateRevision(r);
        }
      }
      return b.build();
    }

    PutRequest put() {
      PutRequest.Builder b = PutRequest.newBuilder().setKey(key());
      if (rnd.nextInt(8) != 0) {
        b.setValue(ByteString.copyFromUtf8("v" + rnd.nextInt(1000)));
      }
      b.setPrevKv(rnd.nextInt(3) == 0);
      int p = rnd.nextInt(20);
      if (p == 0) {
        b.setLease(1 + rnd.nextInt(1 << 20)); // no lease exists
      } else if (p < 3) {
        b.setIgnoreValue(true);
      } else if (p < 5) {
        b.setIgnoreLease(true);
      } else if (p == 5) {
        b.setIgnoreLease(true).setLease(7);
      }
      return b.build();
    }

    DeleteRangeRequest delete() {
      ByteString key = key();
      return DeleteRangeRequest.newBuilder().setKey(key).setRangeEnd(rangeEnd(key))
          .setPrevKv(rnd.nextBoolean()).build();
    }

    TxnRequest txn(int depth) {
      TxnRequest.Builder b = TxnRequest.newBuilder();
      int compares = rnd.nextInt(4);
      int success = rnd.nextInt(4);
      int failure = rnd.nextInt(3);
      int p = rnd.nextInt(30);
      if (depth == 0 && p < 5) {
        return overlapping(0);
      } else if (depth == 0 && p == 5) {
        return nestedOpLimit();
      } else if (depth == 0 && p == 6) {
        success = 120 + rnd.nextInt(12); // around etcd's 128
      } else if (depth == 0 && p == 1) {
        compares = 126 + rnd.nextInt(5);
      }
      for (int i = 0; i < compares; i++) {
        b.addCompare(compare());
      }
      for (int i = 0; i < success; i++) {
        b.addSuccess(op(depth, success > 10));
      }
      for (int i = 0; i < failure; i++) {
        b.addFailure(op(depth, false));
      }
      return b.build();
    }

    /**
     * A txn whose branches write few keys, some of them twice: put+put, put+delete of an overlapping range,
     * and the same across nested txns, where a put may repeat in the other branch of the nested txn.
     */
    TxnRequest overlapping(int depth) {
      TxnRequest.Builder b = TxnRequest.newBuilder();
      if (rnd.nextBoolean()) {
        b.addCompare(compare());
      }
      int n = 1 + rnd.nextInt(3);
      for (int i = 0; i < n; i++) {
        b.addSuccess(smallWrite(depth));
      }
      n = rnd.nextInt(3);
      for (int i = 0; i < n; i++) {
        b.addFailure(smallWrite(depth));
      }
      return b.build();
    }

    private RequestOp smallWrite(int depth) {
      ByteString k = ByteString.copyFromUtf8("k" + rnd.nextInt(3));
      int p = rnd.nextInt(10);
      RequestOp.Builder b = RequestOp.newBuilder();
      if (p < 4) {
        return b.setRequestPut(PutRequest.newBuilder().setKey(k).setValue(ByteString.copyFromUtf8("t"))).build();
      }
      if (p < 7 || depth >= 2) {
        ByteString end = switch (rnd.nextInt(5)) {
          case 0 -> ByteString.EMPTY;
          case 1 -> ByteString.copyFrom(new byte[] {0});
          case 2 -> prefixEnd(k);
          case 3 -> ByteString.copyFromUtf8("k" + rnd.nextInt(4));
          default -> ByteString.copyFromUtf8("l");
        };
        return b.setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(k).setRangeEnd(end)).build();
      }
      return b.setRequestTxn(overlapping(depth + 1)).build();
    }

    /** A txn with a nested txn, their op counts together near etcd's limit of 128. */
    TxnRequest nestedOpLimit() {
      int outer = 40 + rnd.nextInt(60);
      int inner = 128 - outer - 3 + rnd.nextInt(6);
      TxnRequest.Builder nested = TxnRequest.newBuilder();
      for (int i = 0; i < inner; i++) {
        nested.addSuccess(RequestOp.newBuilder().setRequestRange(range()));
      }
      TxnRequest.Builder b = TxnRequest.newBuilder();
      for (int i = 0; i < outer - 1; i++) {
        b.addSuccess(RequestOp.newBuilder().setRequestRange(range()));
      }
      return b.addSuccess(RequestOp.newBuilder().setRequestTxn(nested)).build();
    }

    /** An op; in a long txn mostly ranges and deletes, so that it is not all duplicate puts. */
    RequestOp op(int depth, boolean many) {
      int p = rnd.nextInt(100);
      RequestOp.Builder b = RequestOp.newBuilder();
      if (p < 3) {
        return b.build(); // an empty op
      }
      if (many ? p < 60 : p < 35) {
        return b.setRequestRange(range()).build();
      }
      if (many ? p < 98 : p < 55) {
        return b.setRequestDeleteRange(delete()).build();
      }
      if (p < 85 || depth >= 2) {
        return b.setRequestPut(put()).build();
      }
      return b.setRequestTxn(txn(depth + 1)).build();
    }

    Compare compare() {
      Compare.Builder b = Compare.newBuilder().setKey(rnd.nextInt(30) == 0 ? ByteString.EMPTY
          : ByteString.copyFromUtf8("k" + rnd.nextInt(KEYS)));
      if (rnd.nextInt(5) == 0) {
        b.setRangeEnd(rangeEnd(b.getKey()));
      }
      b.setResultValue(rnd.nextInt(4));
      switch (rnd.nextInt(5)) {
        case 4 -> b.setTargetValue(LEASE_TARGET).setUnknownFields(UnknownFieldSet.newBuilder()
            .addField(LEASE_FIELD, UnknownFieldSet.Field.newBuilder().addVarint(rnd.nextInt(2)).build()).build());
        case 0 -> b.setTarget(Compare.CompareTarget.VERSION).setVersion(rnd.nextInt(4));
        case 1 -> b.setTarget(Compare.CompareTarget.CREATE).setCreateRevision(rnd.nextInt((int) rev + 1));
        case 2 -> b.setTarget(Compare.CompareTarget.MOD).setModRevision(rnd.nextInt((int) rev + 1));
        default -> b.setTarget(Compare.CompareTarget.VALUE).setValue(ByteString.copyFromUtf8("v" + rnd.nextInt(1000)));
      }
      if (rnd.nextInt(15) == 0) {
        b.setTargetValue(rnd.nextInt(4)); // the target's value is another field: it compares with zero
      }
      if (rnd.nextInt(40) == 0) {
        b.setResultValue(4 + rnd.nextInt(3)); // unknown results hold
      }
      if (rnd.nextInt(40) == 0) {
        b.setTargetValue(5 + rnd.nextInt(3)); // unknown targets compare equal
      }
      return b.build();
    }

    private static String brief(Message m) {
      String s = m.toString().replace('\n', ' ');
      return s.length() > 600 ? s.substring(0, 600) + "..." : s;
    }
  }
}
