package io.dkv.server.apply;

import com.google.protobuf.Message;
import java.util.concurrent.CompletableFuture;

/**
 * How a write becomes durable and ordered: through the Raft log of the member's cluster (a single server is
 * a one-member cluster), and how reads and leader-only queries find the leader.
 */
public interface Proposer extends AutoCloseable {

  /**
   * Submits a write request (Put, DeleteRange, Txn, Compaction, LeaseGrant, LeaseRevoke). The future
   * completes with its response once the write is committed by a quorum and applied on this member, or fails
   * with an {@link io.dkv.server.mvcc.EtcdException}.
   */
  CompletableFuture<Message> propose(Message request);

  /**
   * Completes once this member has applied every write the leader had committed when it was called (a
   * linearizable read may then read the local state), or fails with NO_LEADER, TIMEOUT or STOPPED.
   */
  CompletableFuture<Void> readBarrier();

  /** Whether this member is the leader now. */
  boolean isLeader();

  /** Sends a query only the leader can answer (lease keep-alive, time-to-live) to it. */
  CompletableFuture<Message> askLeader(Message query);

  /**
   * Who answers, on the leader, the queries other members send with {@link #askLeader} (a handler that may
   * throw an {@link io.dkv.server.mvcc.EtcdException}).
   */
  void answerLeaderQueries(java.util.function.Function<Message, Message> handler);

  @Override
  void close();
}
