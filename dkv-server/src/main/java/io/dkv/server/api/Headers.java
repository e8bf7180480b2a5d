package io.dkv.server.api;

import io.etcd.jetcd.api.ResponseHeader;

/** Fills the ids etcd puts in every response header around the revision the store gave. */
public record Headers(long clusterId, long memberId, long raftTerm) {

  ResponseHeader fill(ResponseHeader h) {
    return h.toBuilder().setClusterId(clusterId).setMemberId(memberId).setRaftTerm(raftTerm).build();
  }

  public ResponseHeader at(long revision) {
    return ResponseHeader.newBuilder()
        .setClusterId(clusterId).setMemberId(memberId).setRaftTerm(raftTerm).setRevision(revision).build();
  }
}
