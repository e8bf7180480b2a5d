package io.dkv.server.api;

import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberRemoveResponse;
import io.etcd.jetcd.api.MemberUpdateRequest;
import io.etcd.jetcd.api.MemberUpdateResponse;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * Etcd's Cluster service: MemberList, and MemberAdd, MemberRemove, MemberUpdate and MemberPromote, which the
 * leader runs (any member forwards them); each answers with the member list after the change, as etcd.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {

  private final Headers headers;
  private final EtcdServices.Cluster cluster;

  ClusterService(Headers headers, EtcdServices.Cluster cluster) {
    this.headers = headers;
    this.cluster = cluster;
  }

  /** Etcd's cluster header: ids and raft term, no revision. */
  private ResponseHeader header() {
    return headers.fill(ResponseHeader.getDefaultInstance());
  }

  @Override
  public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> obs) {
    Calls.answerAfter(cluster.membersBarrier(), obs, () -> MemberListResponse.newBuilder()
        .setHeader(header())
        .addAllMembers(cluster.members())
        .build());
  }

  @Override
  public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> obs) {
    Calls.answerAsync(obs, cluster.add(request), r -> r.toBuilder().setHeader(header()).build());
  }

  @Override
  public void memberRemove(MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> obs) {
    Calls.answerAsync(obs, cluster.remove(request), r -> r.toBuilder().setHeader(header()).build());
  }

  @Override
  public void memberUpdate(MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> obs) {
    Calls.answerAsync(obs, cluster.update(request), r -> r.toBuilder().setHeader(header()).build());
  }

  /**
   * Etcd's MemberPromote, which jetcd's copy of etcd's API lacks: its request ({@code ID = 1}) has the wire format
   * of MemberRemoveRequest and its response ({@code header = 1, members = 2}) that of MemberListResponse.
   */
  void memberPromote(MemberRemoveRequest request, StreamObserver<MemberListResponse> obs) {
    Calls.answerAsync(obs, cluster.promote(request.getID()),
        members -> MemberListResponse.newBuilder().setHeader(header()).addAllMembers(members).build());
  }

  static final MethodDescriptor<MemberRemoveRequest, MemberListResponse> MEMBER_PROMOTE =
      MethodDescriptor.<MemberRemoveRequest, MemberListResponse>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(ClusterGrpc.SERVICE_NAME, "MemberPromote"))
          .setRequestMarshaller(ProtoUtils.marshaller(MemberRemoveRequest.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(MemberListResponse.getDefaultInstance()))
          .build();

  /** The generated methods and MemberPromote. */
  ServerServiceDefinition definition() {
    ServerServiceDefinition generated = bindService();
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(ClusterGrpc.SERVICE_NAME);
    generated.getMethods().forEach(b::addMethod);
    b.addMethod(MEMBER_PROMOTE, ServerCalls.asyncUnaryCall(this::memberPromote));
    return b.build();
  }
}
