package io.dkv.server.raft;

import io.dkv.server.mvcc.EtcdError;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.Member;
import java.time.Duration;
import java.util.List;
import org.apache.ratis.protocol.RaftGroupId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the other members for their HashKV at a revision, as etcd's {@code getPeerHashKVs} asks them over the
 * peer API: here over their peer port ({@link PeerQuery}).
 */
final class PeerHashes {

  private static final Logger log = LoggerFactory.getLogger(PeerHashes.class);

  /** One member's answer: its hash (with the header of its revision), or the etcd error it answered. */
  record Answer(long memberId, List<String> peerUrls, HashKVResponse response, EtcdError error) {}

  private PeerHashes() {}

  /**
   * The answer of every member of {@code members} but {@code selfId} that has peer URLs, each waited for up to
   * {@code timeout}; a member that does not answer has neither response nor error.
   */
  static List<Answer> ask(RaftGroupId groupId, long selfId, List<Member> members, long rev, Duration timeout) {
    return PeerQuery.ask(groupId, selfId, members, HashKVRequest.newBuilder().setRevision(rev).build(), timeout)
        .join().stream().map(a -> answer(a, rev)).toList();
  }

  private static Answer answer(PeerQuery.Answer a, long rev) {
    Member m = a.member();
    if (a.answer() == null) {
      log.warn("failed hash kv request to member {} on {} at revision {}: {}", MemberIds.hex(m.getID()),
          m.getPeerURLsList(), rev, a.failure());
      return new Answer(m.getID(), m.getPeerURLsList(), null, null);
    }
    EtcdError error = Commands.error(a.answer());
    return error != null ? new Answer(m.getID(), m.getPeerURLsList(), null, error)
        : new Answer(m.getID(), m.getPeerURLsList(), (HashKVResponse) Commands.decode(a.answer()), null);
  }
}
