package io.dkv.server.raft;

import java.io.IOException;

/**
 * This member was removed from its cluster (etcd's MemberRemove) and may not serve again: thrown when a server
 * starts on the data directory of a removed member, as etcd's removed member stops with {@value #MESSAGE}. Its
 * data directory must not be used again; to have the member back, add it anew (MemberAdd) and start it empty.
 */
public final class MemberRemovedException extends IOException {

  /** Etcd's words (its {@code ErrMemberRemoved}). */
  public static final String MESSAGE = "the member has been permanently removed from the cluster";

  public MemberRemovedException(String member) {
    super(MESSAGE + " (member " + member + "); the data-dir used by this member must be removed");
  }
}
