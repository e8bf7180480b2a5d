package io.dkv.server.api;

import io.etcd.jetcd.api.ResponseHeader;
import java.util.function.LongSupplier;

/** Fills the ids etcd puts in every response header around the revision the store gave. */
public final class Headers {

  private final long clusterId;
  private final long memberId;
  private final LongSupplier raftTerm;

  /** {@code raftTerm} is read for every header: the member's current Raft term. */
  public Headers(long clusterId, long memberId, LongSupplier raftTerm) {
    this.clusterId = clusterId;
    this.memberId = memberId;
    this.raftTerm = raftTerm;
  }

  public long clusterId() {
    return clusterId;
  }

  public long memberId() {
    return memberId;
  }

  public long raftTerm() {
    return raftTerm.getAsLong();
  }

  ResponseHeader fill(ResponseHeader h) {
    return h.toBuilder().setClusterId(clusterId).setMemberId(memberId).setRaftTerm(raftTerm()).build();
  }

  public ResponseHeader at(long revision) {
    return ResponseHeader.newBuilder()
        .setClusterId(clusterId).setMemberId(memberId).setRaftTerm(raftTerm()).setRevision(revision).build();
  }
}
