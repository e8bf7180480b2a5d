package io.dkv.server.raft;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLogIOException;
import org.apache.ratis.util.TimeDuration;

/**
 * Ratis's gRPC transport with one change to the leader's log appenders: when the commit index moves and there is
 * no entry to send a follower, the follower is told at once by an empty append carrying the new commit index, as
 * etcd's leader tells its followers (an empty MsgApp). Ratis alone tells a follower with its next heartbeat, half an
 * election timeout later, or with a commit-index entry in the log ({@code raft.server.log.metadata.enabled}): one
 * more entry written, replicated and synced on every member for every commit, which nearly doubled the members'
 * work per write. A follower has to know an entry committed before it applies it, and a write through a follower
 * is answered once that follower applied it.
 *
 * <p>Heartbeats go out every {@code --heartbeat-interval}, as etcd's, not every half election timeout as Ratis's:
 * the followers hear of a leader's death within one interval of each other and of the death itself, so the first
 * to notice finds the others ready to elect it ({@link LeaderLoss}).
 *
 * <p>The appenders report themselves and their followers' replies to the member's {@link LeaderCheck} (given in
 * the server's {@link Parameters} under {@link #LEADER_CHECK}), which confirms a leadership for linearizable reads.
 *
 * <p>Ratis finds a transport by the name in its properties ({@link RpcType#valueOf}: a class name), hence public.
 */
public final class CommitTellingRpc implements RpcType {

  /**
   * The members' property that holds etcd's --heartbeat-interval: how often the leader's appenders send an empty
   * append to a follower they sent nothing else (Ratis alone sends one every half minimum election timeout).
   */
  static final String HEARTBEAT_KEY = "dkv.raft.heartbeat.interval";
  private static final TimeDuration DEFAULT_HEARTBEAT = TimeDuration.valueOf(100, TimeUnit.MILLISECONDS);
  /** The server's parameter that holds its {@link LeaderCheck}. */
  static final String LEADER_CHECK = "dkv.raft.leader.check";

  /** Ratis creates it by reflection; {@link RaftMember} names it in the members' and clients' properties. */
  public CommitTellingRpc() {}

  @Override
  public String name() {
    return CommitTellingRpc.class.getName();
  }

  @Override
  public RpcFactory newFactory(Parameters parameters) {
    return new Factory(parameters);
  }

  private static final class Factory extends GrpcFactory {
    private final LeaderCheck check;

    Factory(Parameters parameters) {
      super(parameters);
      // a Raft client's factory (it makes no appenders) is given no parameters
      this.check = parameters == null ? null : parameters.get(LEADER_CHECK, LeaderCheck.class);
    }

    @Override
    public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
      if (check == null) {
        return new Appender(server, state, follower);
      }
      Appender a = new Appender(server, new ReplyTap(state, check), follower);
      check.appender(a);
      return a;
    }
  }

  /** The leader's state as an appender sees it, telling the {@link LeaderCheck} of every reply it handles. */
  private record ReplyTap(LeaderState state, LeaderCheck check) implements LeaderState {
    @Override
    public void onAppendEntriesReply(LogAppender appender, AppendEntriesReplyProto reply) {
      state.onAppendEntriesReply(appender, reply);
      check.replied(appender, reply);
    }

    @Override
    public void restart(LogAppender appender) {
      state.restart(appender);
    }

    @Override
    public AppendEntriesRequestProto newAppendEntriesRequestProto(FollowerInfo follower,
        List<LogEntryProto> entries, TermIndex previous, long callId) {
      return state.newAppendEntriesRequestProto(follower, entries, previous, callId);
    }

    @Override
    public void checkHealth(FollowerInfo follower) {
      state.checkHealth(follower);
    }

    @Override
    public boolean onFollowerTerm(FollowerInfo follower, long followerTerm) {
      return state.onFollowerTerm(follower, followerTerm);
    }

    @Override
    public void onFollowerCommitIndex(FollowerInfo follower, long commitIndex) {
      state.onFollowerCommitIndex(follower, commitIndex);
    }

    @Override
    public void onFollowerSuccessAppendEntries(FollowerInfo follower) {
      state.onFollowerSuccessAppendEntries(follower);
    }

    @Override
    public boolean isFollowerBootstrapping(FollowerInfo follower) {
      return state.isFollowerBootstrapping(follower);
    }
  }

  /**
   * Ratis's appender loop runs when the commit index moves (the leader signals every appender) and after every
   * reply; when it finds nothing to send it sends nothing until the heartbeat is due. This one then sends the empty
   * append, once per commit index, and only with no append outstanding to that follower (Ratis's heartbeat would
   * then carry no commit index: the follower may not have the entries yet); the outstanding append's reply runs the
   * loop again.
   */
  private static final class Appender extends GrpcLogAppender {
    /** The highest commit index sent to this follower. */
    private final AtomicLong told = new AtomicLong();
    private final long heartbeatMs;

    Appender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
      super(server, state, follower);
      this.heartbeatMs = server.getRaftServer().getProperties()
          .getTimeDuration(HEARTBEAT_KEY, DEFAULT_HEARTBEAT, TimeUnit.MILLISECONDS).toLong(TimeUnit.MILLISECONDS);
    }

    /** Nothing sent to the follower for a heartbeat interval, and nothing outstanding to it. */
    private boolean heartbeatDue() {
      return !hasPendingDataRequests() && getFollower().getLastRpcSendTime().elapsedTimeMs() >= heartbeatMs;
    }

    @Override
    public boolean shouldSendAppendEntries() {
      return super.shouldSendAppendEntries() || heartbeatDue();
    }

    @Override
    public long getWaitTimeMs() {
      long ratis = super.getWaitTimeMs();
      if (hasPendingDataRequests()) {
        return ratis; // the reply runs the loop again
      }
      return Math.min(ratis, Math.max(1, heartbeatMs - getFollower().getLastRpcSendTime().elapsedTimeMs()));
    }

    @Override
    public AppendEntriesRequestProto newAppendEntriesRequest(long callId, boolean heartbeat)
        throws RaftLogIOException {
      AppendEntriesRequestProto request = super.newAppendEntriesRequest(callId, heartbeat);
      if (request == null && !hasPendingDataRequests() && (heartbeatDue()
          || getRaftLog().getLastCommittedIndex() > Math.max(told.get(), getFollower().getCommitIndex()))) {
        request = super.newAppendEntriesRequest(callId, true);
      }
      if (request != null) {
        told.accumulateAndGet(request.getLeaderCommit(), Math::max);
      }
      return request;
    }
  }
}
