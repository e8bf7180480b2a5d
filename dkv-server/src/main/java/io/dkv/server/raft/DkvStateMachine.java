package io.dkv.server.raft;

import com.google.protobuf.ByteString;
import io.dkv.server.apply.Applier;
import io.dkv.server.mvcc.Compaction;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.Member;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The applier as Ratis's state machine: every member applies the committed log entries in log order, each in
 * one RocksDB batch that also records the entry's index and term, so that after a crash the entries after the
 * stored position are applied again from the Raft log and none twice. The stored state is what Ratis sees as
 * the latest snapshot; taking one makes it durable so that the log before it can be purged. Installing the
 * leader's state on a member that is behind the leader's log is not built yet (it is refused, loudly).
 *
 * <p>Answers are the commands' responses (or etcd errors), encoded by {@link Commands}; the member that
 * proposed a command waits for its own apply of it ({@link #awaitApplied}) before it answers, so that its
 * local reads and watches already show the write.
 */
final class DkvStateMachine extends BaseStateMachine {

  private static final Logger log = LoggerFactory.getLogger(DkvStateMachine.class);

  /** What the member does when leadership changes (the lessor's promotion, the metrics). */
  interface Leadership {
    /** This member has become leader and has committed an entry of its term. */
    void ready();

    /** The leader is now {@code leaderId} (null: none known), in {@code term}. */
    void changed(RaftPeerId leaderId);
  }

  /** Queries only the leader answers (lease keep-alives and time-to-live), forwarded by the others. */
  interface LeaderQueries {
    /** The answer, encoded by {@link Commands}; NOT_LEADER if this member is not the leader any more. */
    ByteString answer(com.google.protobuf.Message query);
  }

  private final MvccStore store;
  private final io.dkv.server.storage.Backend backend;
  private final Applier applier;
  private final Members members;
  private final Consumer<List<Event>> committed;
  private final AppliedIndex applied;
  private final ExecutorService compactor;
  private volatile Leadership leadership;
  private volatile LeaderQueries leaderQueries;

  DkvStateMachine(io.dkv.server.storage.Backend backend, MvccStore store, Applier applier, Members members,
      Consumer<List<Event>> committed) {
    this.backend = backend;
    this.store = store;
    this.applier = applier;
    this.members = members;
    this.committed = committed;
    this.applied = new AppliedIndex(store.appliedIndex());
    this.compactor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dkv-compactor");
      t.setDaemon(true);
      return t;
    });
    Compaction unfinished = store.unfinishedCompaction();
    if (unfinished != null) {
      compactor.execute(unfinished::run);
    }
  }

  void onLeadership(Leadership l) {
    this.leadership = l;
  }

  void answerLeaderQueries(LeaderQueries q) {
    this.leaderQueries = q;
  }

  AppliedIndex applied() {
    return applied;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
    super.initialize(server, groupId, storage);
    setLastAppliedTermIndex(TermIndex.valueOf(store.appliedTerm(), stateIndex()));
  }

  /** Ratis counts log indexes from 0; a store that never applied anything is at index -1 for it. */
  private long stateIndex() {
    return store.appliedIndex() == 0 && store.appliedTerm() == 0 ? -1 : store.appliedIndex();
  }

  /** The stored state is the snapshot: Ratis replays the log after it. */
  @Override
  public SnapshotInfo getLatestSnapshot() {
    long index = stateIndex();
    if (index < 0) {
      return null;
    }
    TermIndex at = TermIndex.valueOf(store.appliedTerm(), index);
    return new SnapshotInfo() {
      @Override
      public TermIndex getTermIndex() {
        return at;
      }

      @Override
      public List<org.apache.ratis.server.storage.FileInfo> getFiles() {
        return List.of();
      }
    };
  }

  /**
   * Ratis's snapshot (every --snapshot-count entries, on the apply thread): the state as applied so far made
   * durable, so that the log before it can be purged.
   */
  @Override
  public long takeSnapshot() {
    backend.flush();
    long index = stateIndex();
    log.info("state durable at log index {}; the log before it may be purged", index);
    return index;
  }

  /**
   * The leader has purged the entries this member still needs. Installing the leader's state is not built yet:
   * refuse, loudly, rather than serve a state with a gap.
   */
  @Override
  public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(
      org.apache.ratis.proto.RaftProtos.RoleInfoProto role, TermIndex firstInLeaderLog) {
    log.error("this member applied up to log index {} but the leader's log starts at {}: it needs the leader's "
        + "state, which this version cannot install; replace this member (docs/operations.md)",
        store.appliedIndex(), firstInLeaderLog);
    return new CompletableFuture<>();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    if (index <= store.appliedIndex() && stateIndex() >= 0) {
      return CompletableFuture.completedFuture(Message.EMPTY); // applied before the last restart
    }
    com.google.protobuf.Message command =
        Commands.decode(ByteString.copyFrom(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer()));
    CompletableFuture<Message> answer;
    if (command instanceof Member m) {
      members.publish(m, store.batch());
      answer = CompletableFuture.completedFuture(Message.EMPTY);
    } else {
      answer = apply(command);
    }
    List<Event> events = store.commit(index, entry.getTerm());
    updateLastAppliedTermIndex(entry.getTerm(), index);
    if (!events.isEmpty()) {
      committed.accept(events);
    }
    applied.advance(index);
    return answer;
  }

  private CompletableFuture<Message> apply(com.google.protobuf.Message command) {
    Applier.Applied result;
    try {
      result = applier.apply(command);
    } catch (EtcdException e) {
      return CompletableFuture.completedFuture(message(Commands.encodeError(e.error())));
    }
    Message response = message(Commands.encode(result.response()));
    if (result.compaction() == null) {
      return CompletableFuture.completedFuture(response);
    }
    // the compaction is in force once committed; removing the history from storage follows, in order
    Compaction c = result.compaction();
    CompletableFuture<Message> done = new CompletableFuture<>();
    compactor.execute(() -> {
      try {
        c.run();
        done.complete(response);
      } catch (RuntimeException e) {
        log.error("compaction at {} failed; it resumes at the next start", c.revision(), e);
        done.complete(message(Commands.encodeError(EtcdError.STOPPED)));
      }
    });
    return result.waitForCompaction() ? done : CompletableFuture.completedFuture(response);
  }

  private static Message message(ByteString b) {
    return Message.valueOf(org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations
        .unsafeWrap(b.asReadOnlyByteBuffer()));
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    // a configuration or leader entry: nothing to apply, but the position moves on
    super.notifyTermIndexUpdated(term, index);
    applied.advance(index);
  }

  /** A linearizable read's barrier: Ratis calls this once the local state is at least at the read index. */
  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /** A query forwarded to the leader (sent to it as a stale read, so that only this member answers it). */
  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    LeaderQueries q = leaderQueries;
    if (q == null) {
      return CompletableFuture.completedFuture(message(Commands.encodeError(EtcdError.NOT_LEADER)));
    }
    ByteString b = ByteString.copyFrom(request.getContent().asReadOnlyByteBuffer());
    return CompletableFuture.completedFuture(message(q.answer(Commands.decode(b))));
  }

  @Override
  public void notifyLeaderReady() {
    Leadership l = leadership;
    if (l != null) {
      l.ready();
    }
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId leaderId) {
    Leadership l = leadership;
    if (l != null) {
      l.changed(leaderId);
    }
  }

  @Override
  public void close() throws IOException {
    compactor.shutdown();
    try {
      compactor.awaitTermination(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    applied.close();
    super.close();
  }
}
