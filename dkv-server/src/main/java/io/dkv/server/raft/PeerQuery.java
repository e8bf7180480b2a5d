package io.dkv.server.raft;

import com.google.protobuf.ByteString;
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
 * One query to every other member, on its peer port (Ratis), as a read that any member answers from its own
 * state at once (no leader needed): it works before this member's own Raft server runs, whatever client URLs the
 * members advertise, and from a member the others no longer count as one of theirs.
 */
final class PeerQuery {

  private static final Logger log = LoggerFactory.getLogger(PeerQuery.class);

  /** One member's answer ({@link Commands}' encoding), or why there is none. */
  record Answer(Member member, ByteString answer, Throwable failure) {}

  private PeerQuery() {}

  /**
   * Sends {@code query} (a command of {@link Commands}) to every member of {@code members} but {@code selfId}
   * that has peer URLs; completes with each one's answer once all answered or failed (each within
   * {@code timeout}).
   */
  static CompletableFuture<List<Answer>> ask(RaftGroupId groupId, long selfId, List<Member> members,
      com.google.protobuf.Message query, Duration timeout) {
    List<Member> others = others(selfId, members);
    if (others.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    Kept c = new Kept(groupId, others, timeout);
    // closed off the thread that completed the last answer: one of the client's own threads, which closing it
    // waits for
    return c.ask(others, query).handleAsync((answers, e) -> {
      c.close();
      return answers;
    });
  }

  /** The members but {@code selfId} that have peer URLs: the ones a query can reach. */
  static List<Member> others(long selfId, List<Member> members) {
    return members.stream().filter(m -> m.getID() != selfId && m.getPeerURLsCount() > 0).toList();
  }

  private static RaftPeer peer(Member m) {
    return RaftPeer.newBuilder().setId(MemberIds.hex(m.getID())).setAddress(Membership.address(m)).build();
  }

  /**
   * A client kept for queries asked again and again (its connections stay open, so a question costs a round
   * trip): it asks the members it was built for; {@link #ask} with others builds a new one.
   */
  static final class Kept implements AutoCloseable {
    private final List<RaftPeer> peers;
    private final Duration timeout;
    private final RaftClient client;

    Kept(RaftGroupId groupId, List<Member> members, Duration timeout) {
      this.peers = members.stream().map(PeerQuery::peer).toList();
      this.timeout = timeout;
      RaftProperties p = new RaftProperties();
      RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(timeout.toMillis(), TimeUnit.MILLISECONDS));
      this.client = RaftClient.newBuilder().setProperties(p).setRaftGroup(RaftGroup.valueOf(groupId, peers))
          .setRetryPolicy(RetryPolicies.noRetry()).build();
    }

    /** Whether this client was built for exactly these members. */
    boolean asks(List<Member> members) {
      return peers.equals(members.stream().map(PeerQuery::peer).toList());
    }

    /** Sends {@code query} to each of {@code members} (among those it was built for); their answers. */
    CompletableFuture<List<Answer>> ask(List<Member> members, com.google.protobuf.Message query) {
      Message q = Message.valueOf(UnsafeByteOperations.unsafeWrap(Commands.encode(query).asReadOnlyByteBuffer()));
      List<CompletableFuture<Answer>> answers = new ArrayList<>();
      for (Member m : members) {
        CompletableFuture<RaftClientReply> sent;
        try {
          sent = client.async().sendStaleRead(q, 0, RaftPeerId.valueOf(MemberIds.hex(m.getID())));
        } catch (RuntimeException e) {
          sent = CompletableFuture.failedFuture(e);
        }
        answers.add(sent.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).handle((reply, e) -> {
          if (e != null) {
            return new Answer(m, null, e.getCause() != null ? e.getCause() : e);
          }
          if (!reply.isSuccess()) {
            return new Answer(m, null, reply.getException());
          }
          return new Answer(m, ByteString.copyFrom(reply.getMessage().getContent().asReadOnlyByteBuffer()), null);
        }));
      }
      return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
          .thenApply(v -> answers.stream().map(CompletableFuture::join).toList());
    }

    @Override
    public void close() {
      try {
        client.close();
      } catch (IOException | RuntimeException closing) {
        log.debug("closing the peer query client", closing);
      }
    }
  }
}
