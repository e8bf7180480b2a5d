package io.dkv.server.raft;

import io.dkv.server.mvcc.EtcdError;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberUpdateRequest;
import java.util.HashSet;
import java.util.Set;
import org.rocksdb.WriteBatch;

/**
 * Applies the membership commands of the log to {@link Members}, checking each as etcd's
 * {@code ValidateConfigurationChange} does when it applies a configuration change: deterministic, on every
 * member alike. At most one learner at a time (etcd's maxLearners).
 */
final class MembershipLog {

  static final int MAX_LEARNERS = 1;

  private MembershipLog() {}

  /** Whether {@code command} is a membership command of the log. */
  static boolean isMembership(com.google.protobuf.Message command) {
    return command instanceof MemberAddResponse || command instanceof MemberRemoveRequest
        || command instanceof MemberUpdateRequest || command instanceof com.google.protobuf.UInt64Value;
  }

  /** Applies {@code command} in {@code batch}; the etcd error it is refused with, or null. */
  static EtcdError apply(com.google.protobuf.Message command, Members members, WriteBatch batch) {
    if (command instanceof MemberAddResponse add) {
      Member m = add.getMember();
      if (members.isRemoved(m.getID())) {
        return EtcdError.MEMBER_NOT_FOUND; // etcd's ErrIDRemoved reaches clients as member not found
      }
      if (members.get(m.getID()) != null) {
        return EtcdError.MEMBER_EXISTS;
      }
      if (!java.util.Collections.disjoint(peerUrls(members, 0), m.getPeerURLsList())) {
        return EtcdError.PEER_URL_EXISTS;
      }
      if (m.getIsLearner() && members.all().stream().filter(Member::getIsLearner).count() + 1 > MAX_LEARNERS) {
        return EtcdError.TOO_MANY_LEARNERS;
      }
      members.add(m, batch);
    } else if (command instanceof MemberRemoveRequest r) {
      if (members.get(r.getID()) == null) {
        return EtcdError.MEMBER_NOT_FOUND;
      }
      members.remove(r.getID(), batch);
    } else if (command instanceof MemberUpdateRequest u) {
      if (members.get(u.getID()) == null) {
        return EtcdError.MEMBER_NOT_FOUND;
      }
      if (!java.util.Collections.disjoint(peerUrls(members, u.getID()), u.getPeerURLsList())) {
        return EtcdError.PEER_URL_EXISTS;
      }
      members.update(u.getID(), u.getPeerURLsList(), batch);
    } else if (command instanceof com.google.protobuf.UInt64Value p) {
      Member m = members.get(p.getValue());
      if (m == null) {
        return EtcdError.MEMBER_NOT_FOUND;
      }
      if (!m.getIsLearner()) {
        return EtcdError.MEMBER_NOT_LEARNER;
      }
      members.promote(p.getValue(), batch);
    } else {
      throw new IllegalArgumentException("not a membership command: " + command.getClass().getSimpleName());
    }
    return null;
  }

  private static Set<String> peerUrls(Members members, long except) {
    Set<String> urls = new HashSet<>();
    for (Member m : members.all()) {
      if (m.getID() != except) {
        urls.addAll(m.getPeerURLsList());
      }
    }
    return urls;
  }
}
