package io.dkv.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import com.google.protobuf.UnknownFieldSet;
import io.dkv.server.testing.CompatServers;
import io.dkv.server.testing.ServerPair;
import io.dkv.server.testing.Target;
import io.dkv.server.testing.Transcript;
import io.dkv.server.testing.WatchSession;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.WatchCancelRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchProgressRequest;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Watch scenarios run against dkv-server and a real etcd: each watcher must receive the same responses
 * (events, prev_kv, header revisions, created / canceled / compact_revision), in the same order.
 */
class WatchCompatTest {

  @TempDir
  Path dir;

  private ServerPair servers;

  private void open(Target target) throws Exception {
    servers = ServerPair.open(target, dir.resolve("dkv"));
  }

  @AfterEach
  void stop() {
    if (servers != null) {
      servers.close();
    }
  }

  /** A scenario: writes through {@code kv}, watches through {@code watch}. */
  interface Scenario {
    void run(Transcript kv, WatchSession watch);
  }

  private void assertSameWatches(Scenario s) {
    assertEquals(play(servers.etcdPort, s), play(servers.dkvPort, s));
  }

  /** What each watch id received, normalized, once the stream has gone quiet. */
  private static String play(int port, Scenario s) {
    try (Transcript kv = new Transcript(port); WatchSession w = new WatchSession(port)) {
      s.run(kv, w);
      quiet(w);
      assertNull(w.error, "the stream failed");
      Map<Long, StringBuilder> byWatch = new TreeMap<>();
      for (WatchResponse r : w.responses) {
        byWatch.computeIfAbsent(r.getWatchId(), k -> new StringBuilder())
            .append(TextFormat.printer().shortDebugString(Transcript.normalize(r))).append('\n');
      }
      StringBuilder out = new StringBuilder();
      byWatch.forEach((id, text) -> out.append("watch ").append(id).append(":\n").append(text));
      return out.toString();
    }
  }

  private static void quiet(WatchSession w) {
    int[] last = {-1};
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).during(Duration.ofMillis(500))
        .until(() -> {
          int n = w.responses.size();
          boolean same = n == last[0];
          last[0] = n;
          return same;
        });
  }

  private static void awaitResponses(WatchSession w, int n) {
    await().atMost(Duration.ofSeconds(10)).until(() -> w.responses.size() >= n);
  }

  static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static void put(Transcript t, String k, String v) {
    t.kv.put(PutRequest.newBuilder().setKey(bs(k)).setValue(bs(v)).build());
  }

  static WatchCreateRequest.Builder watch(String key, String end, long startRev) {
    return WatchCreateRequest.newBuilder().setKey(bs(key)).setRangeEnd(bs(end)).setStartRevision(startRev);
  }

  static RequestOp opPut(String k, String v) {
    return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bs(k)).setValue(bs(v))).build();
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void historyReplayWithPrevKvThenLiveEvents(Target target) throws Exception {
    open(target);
    assertSameWatches((kv, w) -> {
      put(kv, "a", "1");
      put(kv, "a", "2");
      put(kv, "ab", "3");
      kv.kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(bs("a")).build());
      w.create(watch("a", "b", 2).setPrevKv(true));
      w.create(watch("a", "", 1));
      awaitResponses(w, 4);
      put(kv, "a", "5");
      put(kv, "ab", "6");
      put(kv, "b", "not watched");
    });
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void prefixRangeAndFromKeyWatches(Target target) throws Exception {
    open(target);
    assertSameWatches((kv, w) -> {
      w.create(watch("p/", "p0", 0));
      w.create(watch("p/b", "p/d", 0));
      w.create(watch("p/c", "\0", 0));
      w.create(watch("\0", "\0", 0));
      awaitResponses(w, 4);
      for (String k : new String[] {"p/a", "p/b", "p/c", "p/d", "q", "o"}) {
        put(kv, k, "v-" + k);
      }
      kv.kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(bs("p/")).setRangeEnd(bs("p0")).build());
    });
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void filters(Target target) throws Exception {
    open(target);
    assertSameWatches((kv, w) -> {
      w.create(watch("f", "g", 0).addFilters(WatchCreateRequest.FilterType.NOPUT));
      w.create(watch("f", "g", 0).addFilters(WatchCreateRequest.FilterType.NODELETE).setPrevKv(true));
      awaitResponses(w, 2);
      put(kv, "f1", "a");
      put(kv, "f1", "b");
      kv.kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(bs("f1")).build());
      put(kv, "f2", "c");
    });
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void compactedStartRevisionCancelsTheWatch(Target target) throws Exception {
    open(target);
    assertSameWatches((kv, w) -> {
      for (int i = 0; i < 6; i++) {
        put(kv, "c", "v" + i);
      }
      kv.kv.compact(CompactionRequest.newBuilder().setRevision(5).setPhysical(true).build());
      w.create(watch("c", "", 3));
      awaitResponses(w, 2);
      w.create(watch("c", "", 5));
      awaitResponses(w, 4);
      put(kv, "c", "after");
    });
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void multiKeyDeletesAndTxnsArriveAsOneResponse(Target target) throws Exception {
    open(target);
    assertSameWatches((kv, w) -> {
      w.create(watch("m", "n", 0).setPrevKv(true));
      awaitResponses(w, 1);
      kv.kv.txn(TxnRequest.newBuilder().addSuccess(opPut("m1", "a")).addSuccess(opPut("m2", "b"))
          .addSuccess(opPut("m3", "c")).build());
      kv.kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(bs("m")).setRangeEnd(bs("n")).setPrevKv(true)
          .build());
    });
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void cancelProgressAndBadRequests(Target target) throws Exception {
    open(target);
    assertSameWatches((kv, w) -> {
      put(kv, "x", "1");
      w.create(watch("x", "", 0));
      w.create(watch("z", "a", 0)); // empty range
      WatchCreateRequest.Builder chosen = watch("y", "", 0);
      chosen.setUnknownFields(UnknownFieldSet.newBuilder()
          .addField(7, UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build());
      w.create(chosen);
      w.create(chosen.clone()); // duplicate id
      awaitResponses(w, 4);
      put(kv, "x", "2");
      put(kv, "y", "3");
      awaitResponses(w, 6);
      w.send(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
      awaitResponses(w, 7);
      w.send(WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(0)).build());
      w.send(WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(99)).build());
      awaitResponses(w, 8);
      put(kv, "x", "3");
      put(kv, "y", "4");
    });
  }

  @Test
  void largeResponsesAreFragmentedWhenAsked() throws Exception {
    // single servers only (the shared clusters keep etcd's default limit), with a small request limit so that
    // responses need fragments
    CompatServers small = CompatServers.start(dir.resolve("dkv-small"), b -> b.maxRequestBytes(65536),
        "--max-request-bytes", "65536");
    servers = ServerPair.of(small);
    String big = "v".repeat(20_000);
    assertSameWatches((kv, w) -> {
      // etcd fragments above --max-request-bytes plus its 512 KiB gRPC allowance: 40 x 20 KB is over
      for (int i = 0; i < 40; i++) {
        put(kv, "big" + (char) ('A' + i), big + i);
      }
      WatchCreateRequest.Builder fragmented = watch("big", "bih", 1);
      fragmented.setUnknownFields(UnknownFieldSet.newBuilder()
          .addField(8, UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build());
      w.create(fragmented);
      w.create(watch("big", "bih", 1)); // not fragmented: one response with every event
    });
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void futureStartRevisionWaits(Target target) throws Exception {
    open(target);
    assertSameWatches((kv, w) -> {
      put(kv, "k", "1");
      w.create(watch("k", "", 4));
      awaitResponses(w, 1);
      put(kv, "k", "2");
      put(kv, "k", "3");
      put(kv, "k", "4");
    });
  }
}
