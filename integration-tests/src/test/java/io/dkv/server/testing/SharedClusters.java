package io.dkv.server.testing;

import static io.dkv.server.testing.Transcript.bytes;

import io.dkv.server.api.LeaseLeases;
import io.dkv.testing.DkvCluster;
import io.dkv.testing.EtcdCluster;
import io.dkv.testing.EtcdProcess;
import io.dkv.testing.FaultyCluster;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One 3-member DKV cluster and one 3-member etcd cluster for every compatibility scenario of the test JVM that
 * runs against clusters: started at the first use, stopped when the JVM exits. Before each scenario
 * {@link #prepare} brings both to the same revision with an empty keyspace, no leases and that revision
 * compacted, and registers the {@link RevisionShift} that makes the scenario see a fresh server.
 */
public final class SharedClusters {

  private static final String ALIGN_KEY = "\u007falign";
  private static SharedClusters instance;

  private final EtcdCluster etcd;
  private final DkvCluster dkv;

  private SharedClusters(EtcdCluster etcd, DkvCluster dkv) {
    this.etcd = etcd;
    this.dkv = dkv;
  }

  /** The clusters, started on the first call (etcd's and DKV's at once). */
  public static synchronized SharedClusters get() {
    if (instance == null) {
      EtcdProcess.assumeInstalled();
      CompletableFuture<DkvCluster> dkv = CompletableFuture.supplyAsync(() -> {
        try {
          return DkvCluster.start(3);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      EtcdCluster etcd;
      try {
        etcd = EtcdCluster.start(3);
      } catch (java.io.IOException e) {
        dkv.thenAccept(DkvCluster::close);
        throw new java.io.UncheckedIOException(e);
      }
      SharedClusters c;
      try {
        c = new SharedClusters(etcd, dkv.join());
      } catch (RuntimeException e) {
        etcd.close();
        throw e;
      }
      Runtime.getRuntime().addShutdownHook(new Thread(c::close, "shared-clusters-stop"));
      instance = c;
    }
    return instance;
  }

  public EtcdCluster etcd() {
    return etcd;
  }

  public DkvCluster dkv() {
    return dkv;
  }

  /** The client port of {@code target}'s member of {@code cluster}: the leader, or the member after it. */
  public static int port(FaultyCluster cluster, Target target) {
    int leader = cluster.leader();
    int i = target == Target.CLUSTER_LEADER ? leader : (leader + 1) % cluster.size();
    return URI.create(cluster.endpoint(i)).getPort();
  }

  /**
   * Empties both clusters (leases revoked, keys deleted) through the members on {@code etcdPort} and
   * {@code dkvPort}, brings them to one revision T and compacts it, and registers the offset T - 1 for channels
   * to those ports: revision 1 of a scenario is then T, an empty keyspace, as on a fresh server.
   */
  public static long prepare(int etcdPort, int dkvPort) {
    Channels.clearShift(etcdPort);
    Channels.clearShift(dkvPort);
    long target = Math.max(empty(etcdPort), empty(dkvPort)) + 2;
    align(etcdPort, target);
    align(dkvPort, target);
    Channels.shiftRevisions(etcdPort, target - 1);
    Channels.shiftRevisions(dkvPort, target - 1);
    return target - 1;
  }

  /** Revokes every lease, deletes every key; returns the revision then. */
  private static long empty(int port) {
    ManagedChannel ch = Channels.open(port);
    try {
      LeaseLeases.Response leases = ClientCalls.blockingUnaryCall(ch, LeaseLeases.METHOD,
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new LeaseLeases.Request());
      LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
      for (long id : leases.ids()) {
        lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(id).build());
      }
      return kv(ch).deleteRange(DeleteRangeRequest.newBuilder().setKey(bytes("\0")).setRangeEnd(bytes("\0")).build())
          .getHeader().getRevision();
    } finally {
      Channels.close(ch);
    }
  }

  /** From an empty keyspace below {@code target}: puts, then a delete that reaches it; compacts it. */
  private static void align(int port, long target) {
    ManagedChannel ch = Channels.open(port);
    try {
      KVGrpc.KVBlockingStub kv = kv(ch);
      long rev = kv.range(RangeRequest.newBuilder().setKey(bytes(ALIGN_KEY)).build()).getHeader().getRevision();
      while (rev < target - 1) {
        rev = kv.put(PutRequest.newBuilder().setKey(bytes(ALIGN_KEY)).setValue(bytes("x")).build())
            .getHeader().getRevision();
      }
      rev = kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(bytes(ALIGN_KEY)).build()).getHeader()
          .getRevision();
      if (rev != target) {
        throw new IllegalStateException("member on port " + port + " at revision " + rev + ", not " + target);
      }
      kv.compact(CompactionRequest.newBuilder().setRevision(target).setPhysical(true).build());
    } finally {
      Channels.close(ch);
    }
  }

  private static KVGrpc.KVBlockingStub kv(ManagedChannel ch) {
    return KVGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private void close() {
    try {
      dkv.close();
    } finally {
      etcd.close();
    }
  }
}
