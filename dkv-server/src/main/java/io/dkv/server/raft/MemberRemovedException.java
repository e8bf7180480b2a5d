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

  /** What a removed member says when it stops: etcd's words, then what to do. */
  public static final String ADVICE = "the data-dir used by this member must be removed";

  public MemberRemovedException(String member) {
    super(MESSAGE + " (member " + member + "); " + ADVICE);
  }
}
