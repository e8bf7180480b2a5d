package io.dkv.server.api;

import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** Etcd's Cluster service for a one-member cluster: MemberList. */
final class ClusterService extends ClusterGrpc.ClusterImplBase {

  private final Headers headers;
  private final Supplier<Member> self;

  ClusterService(Headers headers, Supplier<Member> self) {
    this.headers = headers;
    this.self = self;
  }

  @Override
  public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> obs) {
    Calls.answer(obs, () -> MemberListResponse.newBuilder()
        .setHeader(headers.fill(ResponseHeader.getDefaultInstance())) // etcd's cluster header has no revision
        .addMembers(self.get())
        .build());
  }
}
