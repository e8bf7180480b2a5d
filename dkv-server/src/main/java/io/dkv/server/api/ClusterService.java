package io.dkv.server.api;

import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.stub.StreamObserver;

/** Etcd's Cluster service: MemberList. */
final class ClusterService extends ClusterGrpc.ClusterImplBase {

  private final Headers headers;
  private final EtcdServices.Cluster cluster;

  ClusterService(Headers headers, EtcdServices.Cluster cluster) {
    this.headers = headers;
    this.cluster = cluster;
  }

  @Override
  public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> obs) {
    Calls.answer(obs, () -> MemberListResponse.newBuilder()
        .setHeader(headers.fill(ResponseHeader.getDefaultInstance())) // etcd's cluster header has no revision
        .addAllMembers(cluster.members())
        .build());
  }
}
