package io.dkv.server.raft;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;
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
 * <p>Ratis finds a transport by the name in its properties ({@link RpcType#valueOf}: a class name), hence public.
 */
public final class CommitTellingRpc implements RpcType {

  /**
   * The members' property that holds etcd's --heartbeat-interval: how often the leader's appenders send an empty
   * append to a follower they sent nothing else (Ratis alone sends one every half minimum election timeout).
   */
  static final String HEARTBEAT_KEY = "dkv.raft.heartbeat.interval";
  private static final TimeDuration DEFAULT_HEARTBEAT = TimeDuration.valueOf(100, TimeUnit.MILLISECONDS);

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
    Factory(Parameters parameters) {
      super(parameters);
    }

    @Override
    public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
      return new Appender(server, state, follower);
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
