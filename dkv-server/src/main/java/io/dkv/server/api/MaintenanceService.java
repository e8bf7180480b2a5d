package io.dkv.server.api;

import com.google.protobuf.UnknownFieldSet;
import io.dkv.server.alarm.AlarmStore;
import io.dkv.server.apply.Proposer;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.AlarmResponse;
import io.etcd.jetcd.api.DefragmentRequest;
import io.etcd.jetcd.api.DefragmentResponse;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.HashRequest;
import io.etcd.jetcd.api.HashResponse;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.MoveLeaderRequest;
import io.etcd.jetcd.api.MoveLeaderResponse;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;

/** Etcd's Maintenance service: Status, Hash, HashKV, Defragment, MoveLeader and Alarm. */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {

  /** The etcd API version DKV implements, as Status reports it. */
  public static final String ETCD_VERSION = "3.5.0";

  private final MvccStore store;
  private final Backend backend;
  private final Headers headers;
  private final EtcdServices.Cluster cluster;
  private final Executor slow;
  private final Proposer proposer;
  private final AlarmStore alarms;

  /**
   * {@code slow} runs the calls that scan or rewrite the whole store (hash, hashKV, defragment), so they never
   * hold a gRPC event-loop thread.
   */
  MaintenanceService(MvccStore store, Backend backend, Headers headers, Executor slow,
      EtcdServices.Cluster cluster, Proposer proposer, AlarmStore alarms) {
    this.cluster = cluster;
    this.proposer = proposer;
    this.alarms = alarms;
    this.store = store;
    this.backend = backend;
    this.headers = headers;
    this.slow = slow;
  }

  /** Etcd's raftAppliedIndex field of StatusResponse, which jetcd's older proto lacks. */
  private static final int RAFT_APPLIED_INDEX_FIELD = 7;

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> obs) {
    Calls.answer(obs, () -> {
      long applied = cluster.appliedIndex();
      return StatusResponse.newBuilder()
          .setHeader(headers.at(store.committedRevision()))
          .setVersion(ETCD_VERSION)
          .setDbSize(backend.size())
          .setLeader(cluster.leaderId())
          .setRaftIndex(cluster.raftIndex())
          .setRaftTerm(headers.raftTerm())
          .setUnknownFields(UnknownFieldSet.newBuilder().addField(RAFT_APPLIED_INDEX_FIELD,
              UnknownFieldSet.Field.newBuilder().addVarint(applied).build()).build())
          .build();
    });
  }

  @Override
  public void hash(HashRequest request, StreamObserver<HashResponse> obs) {
    Calls.answerOn(slow, obs, () -> {
      MvccStore.Hash h = store.hashAll();
      return HashResponse.newBuilder().setHeader(headers.at(h.currentRev())).setHash(h.hash()).build();
    });
  }

  @Override
  public void hashKV(HashKVRequest request, StreamObserver<HashKVResponse> obs) {
    Calls.answerOn(slow, obs, () -> {
      MvccStore.Hash h = store.hashKv(request.getRevision());
      return HashKVResponse.newBuilder()
          .setHeader(headers.at(h.currentRev()))
          .setHash(h.hash())
          .setCompactRevision(h.compactRev())
          .build();
    });
  }

  @Override
  public void defragment(DefragmentRequest request, StreamObserver<DefragmentResponse> obs) {
    Calls.answerOn(slow, obs, () -> {
      backend.defragment();
      return DefragmentResponse.newBuilder().setHeader(headers.at(store.committedRevision())).build();
    });
  }

  /** Etcd's MoveLeader: taken by the leader only, to a voting member; answered once the target leads. */
  @Override
  public void moveLeader(MoveLeaderRequest request, StreamObserver<MoveLeaderResponse> obs) {
    Calls.answerAsync(obs, cluster.moveLeader(request.getTargetID()),
        v -> MoveLeaderResponse.newBuilder().setHeader(headers.at(store.committedRevision())).build());
  }

  /**
   * Etcd's Alarm: ACTIVATE and DEACTIVATE go through the log (every member applies them; see the applier for
   * their answers); GET answers, after a linearizable wait (etcd sends it through the log as well), the alarms
   * of the type asked for (NONE: all) as this member has applied them. An unknown action answers no alarm.
   */
  @Override
  public void alarm(AlarmRequest request, StreamObserver<AlarmResponse> obs) {
    switch (request.getAction()) {
      case GET -> Calls.answerAfter(proposer.readBarrier(), obs, () -> AlarmResponse.newBuilder()
          .setHeader(headers.at(store.committedRevision()))
          .addAllAlarms(alarms.get(request.getAlarmValue())).build());
      case ACTIVATE, DEACTIVATE -> Calls.answerAsync(obs, proposer.propose(request), m -> ((AlarmResponse) m)
          .toBuilder().setHeader(headers.at(store.committedRevision())).build());
      default -> Calls.answer(obs, () -> AlarmResponse.newBuilder()
          .setHeader(headers.at(store.committedRevision())).build());
    }
  }
}
