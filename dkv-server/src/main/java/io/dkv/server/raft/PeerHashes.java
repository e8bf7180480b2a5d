package io.dkv.server.raft;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.EtcdError;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.Member;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the other members for their HashKV at a revision, as etcd's {@code getPeerHashKVs} asks them over the
 * peer API: here over their peer port (Ratis), as a read any member answers at once (no leader needed), so that
 * it works before this member's own Raft server runs and whatever client URLs the members advertise.
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
    List<Member> others = members.stream().filter(m -> m.getID() != selfId && m.getPeerURLsCount() > 0).toList();
    if (others.isEmpty()) {
      return List.of();
    }
    List<RaftPeer> peers = others.stream().map(m -> RaftPeer.newBuilder().setId(MemberIds.hex(m.getID()))
        .setAddress(Membership.address(m)).build()).toList();
    RaftProperties p = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
    Message q = Message.valueOf(UnsafeByteOperations.unsafeWrap(
        Commands.encode(HashKVRequest.newBuilder().setRevision(rev).build()).asReadOnlyByteBuffer()));
    List<Answer> answers = new ArrayList<>();
    try (RaftClient c = RaftClient.newBuilder().setProperties(p).setRaftGroup(RaftGroup.valueOf(groupId, peers))
        .setRetryPolicy(RetryPolicies.noRetry()).build()) {
      List<CompletableFuture<RaftClientReply>> sent = new ArrayList<>();
      for (Member m : others) {
        sent.add(c.async().sendStaleRead(q, 0, RaftPeerId.valueOf(MemberIds.hex(m.getID())))
            .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS));
      }
      for (int i = 0; i < others.size(); i++) {
        answers.add(answer(others.get(i), sent.get(i), rev));
      }
    } catch (IOException e) {
      log.debug("closing the HashKV client", e);
    }
    return answers;
  }

  private static Answer answer(Member m, CompletableFuture<RaftClientReply> sent, long rev) {
    try {
      RaftClientReply reply = sent.join();
      if (!reply.isSuccess()) {
        throw new IOException(String.valueOf(reply.getException()));
      }
      ByteString b = ByteString.copyFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
      EtcdError error = Commands.error(b);
      return error != null ? new Answer(m.getID(), m.getPeerURLsList(), null, error)
          : new Answer(m.getID(), m.getPeerURLsList(), (HashKVResponse) Commands.decode(b), null);
    } catch (IOException | RuntimeException e) {
      log.warn("failed hash kv request to member {} on {} at revision {}: {}", MemberIds.hex(m.getID()),
          m.getPeerURLsList(), rev, e.getCause() != null ? e.getCause().toString() : e.toString());
      return new Answer(m.getID(), m.getPeerURLsList(), null, null);
    }
  }
}
