package io.dkv.server;

import io.dkv.server.testing.CompatServers;
import io.dkv.server.testing.Target;

import static io.dkv.server.KvCompatTest.bs;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.dkv.testing.EtcdProcess;
import io.dkv.server.testing.Transcript;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.lock.LockGrpc;
import io.etcd.jetcd.api.lock.LockRequest;
import io.etcd.jetcd.api.lock.LockResponse;
import io.etcd.jetcd.api.lock.UnlockRequest;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lock contention between several clients, the same against dkv-server and etcd: who owns the lock when,
 * the keys and header revisions returned, release by Unlock and by lease revocation, re-locking with the
 * same lease, and the error for an unknown lease.
 */
class LockCompatTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(Target.class)
  void contendedLockBehavesAsEtcd(Target target) throws Exception {
    CompatServers.assertSameOnBoth(target, dir, LockCompatTest::scenario);
  }

  private static List<String> scenario(int port) throws Exception {
    List<String> out = new ArrayList<>();
    try (Transcript t = new Transcript(port)) {
      for (long id = 1; id <= 4; id++) {
        t.lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(id).setTTL(60).build());
      }
      LockGrpc.LockBlockingStub blocking = LockGrpc.newBlockingStub(t.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      LockGrpc.LockFutureStub async = LockGrpc.newFutureStub(t.channel).withDeadlineAfter(30, TimeUnit.SECONDS);

      LockResponse a = blocking.lock(lock("L", 1));
      out.add("a " + print(a));
      out.add("a again " + print(blocking.lock(lock("L", 1))));
      ListenableFuture<LockResponse> b = async.lock(lock("L", 2));
      await().atMost(Duration.ofSeconds(10)).until(() -> keys(t, "L/") == 2);
      ListenableFuture<LockResponse> c = async.lock(lock("L", 3));
      await().atMost(Duration.ofSeconds(10)).until(() -> keys(t, "L/") == 3);
      out.add("waiting " + b.isDone() + " " + c.isDone());

      // a waiter that gives up (its call is canceled) withdraws its key
      Context.CancellableContext gaveUp = Context.current().withCancellation();
      ListenableFuture<LockResponse> d = gaveUp.call(() -> LockGrpc.newFutureStub(t.channel).lock(lock("L", 4)));
      await().atMost(Duration.ofSeconds(10)).until(() -> keys(t, "L/") == 4);
      gaveUp.cancel(null);
      await().atMost(Duration.ofSeconds(10)).until(() -> keys(t, "L/") == 3);
      out.add("canceled waiter done " + d.isDone());

      out.add("unlock a " + print(blocking.unlock(UnlockRequest.newBuilder().setKey(a.getKey()).build())));
      out.add("b " + print(b.get(10, TimeUnit.SECONDS)));
      out.add("c waiting " + !c.isDone());

      // b's owner dies: its lease is revoked, its key goes, c owns the lock
      t.lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(2).build());
      LockResponse cr = c.get(10, TimeUnit.SECONDS);
      out.add("c " + print(cr));
      out.add("unlock c " + print(blocking.unlock(UnlockRequest.newBuilder().setKey(cr.getKey()).build())));
      out.add("other lock " + print(blocking.lock(lock("M", 3))));
      try {
        blocking.lock(lock("N", 99));
        out.add("unknown lease: locked");
      } catch (StatusRuntimeException e) {
        out.add("unknown lease: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      }
      out.add("keys " + keys(t, ""));
    }
    return out;
  }

  private static LockRequest lock(String name, long lease) {
    return LockRequest.newBuilder().setName(bs(name)).setLease(lease).build();
  }

  private static long keys(Transcript t, String prefix) {
    RangeRequest.Builder r = RangeRequest.newBuilder().setCountOnly(true);
    if (prefix.isEmpty()) {
      r.setKey(bs("\0")).setRangeEnd(bs("\0"));
    } else {
      r.setKey(bs(prefix)).setRangeEnd(bs(prefix.substring(0, prefix.length() - 1) + (char) (prefix.charAt(prefix.length() - 1) + 1)));
    }
    return t.kv.range(r.build()).getCount();
  }

  private static String print(Message m) {
    return TextFormat.printer().shortDebugString(Transcript.normalize(m));
  }
}
