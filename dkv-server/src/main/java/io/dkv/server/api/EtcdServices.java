package io.dkv.server.api;

import io.dkv.server.alarm.AlarmStore;
import io.dkv.server.apply.Proposer;
import io.dkv.server.concurrency.Elections;
import io.dkv.server.concurrency.Locks;
import io.dkv.server.lease.Lessor;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.dkv.server.watch.WatchHub;
import io.etcd.jetcd.api.Member;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberRemoveResponse;
import io.etcd.jetcd.api.MemberUpdateRequest;
import io.etcd.jetcd.api.MemberUpdateResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The etcd v3 API of one member, as gRPC services ready to add to a server: KV, Watch, Lease, Lock, Election,
 * Maintenance and Cluster, each checking the size of what it receives as etcd does. The services themselves
 * are internal to this package.
 */
public final class EtcdServices {

  /** What etcd allows a gRPC message beyond --max-request-bytes. */
  public static final int GRPC_OVERHEAD_BYTES = MessageSizeLimit.GRPC_OVERHEAD_BYTES;

  private EtcdServices() {}

  /**
   * The member's parts the services serve.
   *
   * @param maintenance runs whole-store work (hashes, defragment) off the gRPC threads
   * @param cluster the member's view of its cluster
   * @param alarms the cluster's alarms, as this member has applied them
   */
  public record Parts(MvccStore store, Backend backend, Proposer proposer, Lessor leases, WatchHub watches,
      Locks locks, Elections elections, Executor maintenance, Cluster cluster, AlarmStore alarms) {}

  /** The member's view of its cluster, for the Cluster and Maintenance services. */
  public interface Cluster {
    /** The members of the current configuration. */
    List<Member> members();

    /**
     * Completes once this member has applied its own publication (its name) and every membership change committed
     * when called (the latter at once when no leader is known, so that the list still answers without a quorum).
     */
    CompletableFuture<Void> membersBarrier();

    /** The leader's member id, 0 if none is known. */
    long leaderId();

    /** The index of the last committed entry this member knows of (etcd's raft_index). */
    long raftIndex();

    /** The index of the last entry applied on this member. */
    long appliedIndex();

    /** Etcd's MemberAdd (the response without its header). */
    CompletableFuture<MemberAddResponse> add(MemberAddRequest request);

    /** Etcd's MemberRemove (the response without its header). */
    CompletableFuture<MemberRemoveResponse> remove(MemberRemoveRequest request);

    /** Etcd's MemberUpdate (the response without its header). */
    CompletableFuture<MemberUpdateResponse> update(MemberUpdateRequest request);

    /** Etcd's MemberPromote of member {@code id}: the members after it. */
    CompletableFuture<List<Member>> promote(long id);

    /** Etcd's MoveLeader: completes once {@code target} leads. */
    CompletableFuture<Void> moveLeader(long target);
  }

  /**
   * Every service, with etcd's limits: {@code maxRequestBytes} (--max-request-bytes) and {@code maxTxnOps}
   * (--max-txn-ops), and etcd's handling of the require-leader metadata ({@code requireLeader}).
   */
  public static List<ServerServiceDefinition> all(Parts p, Headers headers, long maxRequestBytes, int maxTxnOps,
      RequireLeader requireLeader) {
    MessageSizeLimit sizeLimit = new MessageSizeLimit(maxRequestBytes);
    LeaseService lease = new LeaseService(p.leases(), p.proposer(), p.store(), headers);
    p.proposer().answerLeaderQueries(lease::answerAsLeader);
    return List.of(
        new KvService(p.store(), p.proposer(), headers, p.leases(), maxRequestBytes, maxTxnOps).bindService(),
        new MaintenanceService(p.store(), p.backend(), headers, p.maintenance(), p.cluster(), p.proposer(),
            p.alarms()).bindService(),
        new ClusterService(headers, p.cluster()).definition(),
        new WatchService(p.watches()).bindService(),
        lease.withLeaseLeases(),
        new LockService(p.locks(), headers).bindService(),
        new ElectionService(p.elections(), headers).bindService())
        .stream().map(s -> ServerInterceptors.intercept(s, sizeLimit, requireLeader)).toList();
  }
}
