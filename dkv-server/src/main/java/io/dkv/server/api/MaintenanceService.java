package io.dkv.server.api;

import com.google.protobuf.UnknownFieldSet;
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
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;

/** Etcd's Maintenance service: Status, Hash, HashKV, Defragment and Alarm (DKV raises no alarms). */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {

  /** The etcd API version DKV implements, as Status reports it. */
  public static final String ETCD_VERSION = "3.5.0";

  private final MvccStore store;
  private final Backend backend;
  private final Headers headers;
  private final EtcdServices.Cluster cluster;
  private final Executor slow;

  /**
   * {@code slow} runs the calls that scan or rewrite the whole store (hash, hashKV, defragment), so they never
   * hold a gRPC event-loop thread.
   */
  MaintenanceService(MvccStore store, Backend backend, Headers headers, Executor slow,
      EtcdServices.Cluster cluster) {
    this.cluster = cluster;
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

  @Override
  public void alarm(AlarmRequest request, StreamObserver<AlarmResponse> obs) {
    Calls.answer(obs, () -> AlarmResponse.newBuilder().setHeader(headers.at(store.committedRevision())).build());
  }
}
