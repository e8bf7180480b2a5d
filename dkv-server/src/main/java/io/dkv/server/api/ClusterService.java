package io.dkv.server.api;

import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** Etcd's Cluster service for a one-member cluster: MemberList. */
public final class ClusterService extends ClusterGrpc.ClusterImplBase {

  private final MvccStore store;
  private final Headers headers;
  private final Supplier<Member> self;

  public ClusterService(MvccStore store, Headers headers, Supplier<Member> self) {
    this.store = store;
    this.headers = headers;
    this.self = self;
  }

  @Override
  public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> obs) {
    Calls.answer(obs, () -> MemberListResponse.newBuilder()
        .setHeader(headers.at(store.committedRevision()))
        .addMembers(self.get())
        .build());
  }
}
