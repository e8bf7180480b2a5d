package io.dkv.server.lease;

import com.google.protobuf.Message;
import io.dkv.server.apply.Applier;
import io.dkv.server.apply.LeaseState;
import io.dkv.server.apply.Proposer;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** A proposer for tests of the lessor alone: applies each request at once on the caller's thread, leader. */
class DirectProposer implements Proposer {

  private final MvccStore store;
  private final Applier applier;

  DirectProposer(MvccStore store, LeaseState leases, io.dkv.server.alarm.AlarmStore alarms) {
    this.store = store;
    this.applier = new Applier(store, leases, alarms);
  }

  @Override
  public synchronized CompletableFuture<Message> propose(Message request) {
    try {
      Message response = applier.apply(request).response();
      return CompletableFuture.completedFuture(response);
    } catch (EtcdException e) {
      return CompletableFuture.failedFuture(e);
    } finally {
      store.commit(store.appliedIndex() + 1, 1);
    }
  }

  @Override
  public CompletableFuture<Void> readBarrier() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public boolean isLeader() {
    return true;
  }

  @Override
  public CompletableFuture<Message> askLeader(Message query) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void answerLeaderQueries(Function<Message, Message> handler) {}

  @Override
  public void close() {}
}
