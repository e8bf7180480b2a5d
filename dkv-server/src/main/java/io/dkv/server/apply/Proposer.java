package io.dkv.server.apply;

import com.google.protobuf.Message;
import java.util.concurrent.CompletableFuture;

/**
 * How a write becomes durable and ordered. The local implementation group-commits to the local disk; a
 * replicated one (a Raft log) can take its place without the API or the applier changing.
 */
public interface Proposer extends AutoCloseable {

  /**
   * Submits a write request (Put, DeleteRange, Txn, Compaction). The future completes with its response
   * once the write is durable, or fails with an {@link io.dkv.server.mvcc.EtcdException}.
   */
  CompletableFuture<Message> propose(Message request);

  @Override
  void close();
}
