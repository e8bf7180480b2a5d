package io.dkv.server.raft;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.google.protobuf.ByteString;
import io.dkv.server.apply.Applier;
import io.dkv.server.mvcc.Compaction;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.Member;
import java.io.IOException;
import java.util.ArrayList;
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
 * stored position are applied again from the Raft log and none twice. A snapshot is a RocksDB checkpoint
 * ({@link Snapshots}), after which the log may be purged; a member behind the leader's log, or one the leader
 * brings in, gets the leader's checkpoint installed in place of its state ({@link #reinitialize}).
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
    CompletableFuture<ByteString> answer(com.google.protobuf.Message query);
  }

  private final MvccStore store;
  private final io.dkv.server.storage.Backend backend;
  private final Applier applier;
  private final Members members;
  private volatile Runnable memberRemoved = () -> {};
  /** An entry being applied removed a member (the applier thread's only). */
  private boolean removing;
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
    this.compactor = Executors.newSingleThreadExecutor(
        new ThreadFactoryBuilder().setNameFormat("dkv-compactor").setDaemon(true).build());
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

  /** What else holds state read from the store and must read it again after a snapshot is installed. */
  interface StateReplaced {
    void replaced();
  }

  private volatile StateReplaced onReplaced = () -> { };
  private volatile Snapshots snapshots;

  /**
   * Runs {@code r} (on the applier thread) after an applied entry removed a member, durably, and after a
   * leader's snapshot replaced the membership.
   */
  void onMemberRemoved(Runnable r) {
    this.memberRemoved = r;
  }

  void onStateReplaced(StateReplaced r) {
    this.onReplaced = r;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
    getLifeCycle().startAndTransition(() -> {
      super.initialize(server, groupId, storage);
      this.snapshots = new Snapshots(storage.getStorageDir().getStateMachineDir().toPath());
      SnapshotInfo latest = snapshots.latest();
      if (latest != null && latest.getIndex() > stateIndex()) {
        // the state is behind its own last snapshot (lost or damaged, and recovered to an older point by
        // RocksDB): start again from the snapshot; the log after it follows
        log.warn("the state in {} is at log index {}, behind this member's snapshot at {}: restoring the snapshot",
            snapshots.dir(), stateIndex(), latest.getIndex());
        install(latest);
      }
      setLastAppliedTermIndex(TermIndex.valueOf(store.appliedTerm(), stateIndex()));
    });
  }

  /** Ratis is about to install a snapshot: nothing is applied until {@link #reinitialize}. */
  @Override
  public void pause() {
    getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.PAUSING);
    getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.PAUSED);
  }

  /** Ratis counts log indexes from 0; a store that never applied anything is at index -1 for it. */
  private long stateIndex() {
    return store.appliedIndex() == 0 && store.appliedTerm() == 0 ? -1 : store.appliedIndex();
  }

  private volatile java.util.function.BooleanSupplier leading = () -> false;

  /** Tells whether this member leads now (set once its Raft server runs). */
  void leading(java.util.function.BooleanSupplier leading) {
    this.leading = leading;
  }

  /**
   * The latest RocksDB checkpoint. Before the first one: to this member's own Raft server (at start, and as a
   * follower), the stored state itself, without files (the log has not been purged, so nobody needs them; Ratis
   * replays the log after it, and entries the stored state already holds are skipped); as the leader, none. The
   * leader sends what this reports to every member it brings into the configuration (and to one behind its
   * log's start, which cannot happen before a checkpoint): a snapshot without files would replace that member's
   * state with nothing, so without a checkpoint a new member catches up from the whole log instead.
   */
  @Override
  public SnapshotInfo getLatestSnapshot() {
    SnapshotInfo latest = snapshots == null ? null : snapshots.latest();
    if (latest != null) {
      return latest;
    }
    if (leading.getAsBoolean()) {
      return null; // nothing to send: a member this leader brings in catches up from the log
    }
    long index = stateIndex();
    if (index < 0) {
      return null;
    }
    return new org.apache.ratis.statemachine.impl.FileListSnapshotInfo(List.of(), store.appliedTerm(), index);
  }

  /**
   * Ratis's snapshot (every --snapshot-count entries, on the apply thread): the state as applied so far made
   * durable, so that the log before it can be purged.
   */
  @Override
  public long takeSnapshot() throws IOException {
    long index = stateIndex();
    if (index < 0) {
      return index;
    }
    backend.flush();
    snapshots.take(backend, store.appliedTerm(), index);
    log.info("snapshot at log index {} (revision {}); the log before it may be purged", index,
        store.committedRevision());
    return index;
  }

  /**
   * Ratis has installed the leader's snapshot in the state machine directory (this member was behind the
   * leader's log, or started empty): it replaces the stored state, and everything read from it is read again.
   */
  @Override
  public void reinitialize() throws IOException {
    SnapshotInfo latest = snapshots.refresh();
    if (latest == null) {
      throw new IOException("no snapshot to install in " + snapshots.dir());
    }
    long before = store.committedRevision();
    install(latest);
    setLastAppliedTermIndex(latest.getTermIndex());
    log.info("installed the leader's snapshot at log index {}: revision {} (was {})", latest.getIndex(),
        store.committedRevision(), before);
    if (getLifeCycleState() == org.apache.ratis.util.LifeCycle.State.PAUSED) {
      getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.STARTING);
      getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.RUNNING);
    }
  }

  /** The log index of this member's latest checkpoint, -1 if it has none. */
  long checkpointIndex() {
    SnapshotInfo latest = snapshots == null ? null : snapshots.latest();
    return latest == null ? -1 : latest.getIndex();
  }

  /** Puts the snapshot's checkpoint in place of the state and reads everything derived from it again. */
  private void install(SnapshotInfo snapshot) throws IOException {
    backend.replaceWith(snapshots.pathOf(snapshot));
    store.reload();
    members.reload();
    onReplaced.replaced();
    applied.advance(snapshot.getIndex());
    memberRemoved.run();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    if (index <= store.appliedIndex() && stateIndex() >= 0) {
      return CompletableFuture.completedFuture(Message.EMPTY); // applied before the last restart
    }
    List<ByteString> commands =
        Commands.unbatch(ByteString.copyFrom(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer()));
    CompletableFuture<Message> answer;
    if (commands.size() == 1) {
      answer = applyOne(Commands.decode(commands.get(0)));
    } else {
      List<CompletableFuture<Message>> answers = new ArrayList<>(commands.size());
      for (ByteString c : commands) {
        answers.add(applyOne(Commands.decode(c)));
      }
      answer = CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(v -> {
        List<ByteString> parts = new ArrayList<>(answers.size());
        answers.forEach(a -> parts.add(ByteString.copyFrom(a.join().getContent().asReadOnlyByteBuffer())));
        return message(Commands.batch(parts));
      });
    }
    List<Event> events = store.commit(index, entry.getTerm());
    updateLastAppliedTermIndex(entry.getTerm(), index);
    if (!events.isEmpty()) {
      committed.accept(events);
    }
    applied.advance(index);
    if (removing) {
      removing = false;
      memberRemoved.run();
    }
    return answer;
  }

  private CompletableFuture<Message> applyOne(com.google.protobuf.Message command) {
    if (command instanceof Member m) {
      members.publish(m, store.batch());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
    if (MembershipLog.isMembership(command)) {
      EtcdError refused = MembershipLog.apply(command, members, store.batch());
      removing |= refused == null && command instanceof io.etcd.jetcd.api.MemberRemoveRequest;
      return CompletableFuture.completedFuture(refused == null ? Message.EMPTY
          : message(Commands.encodeError(refused)));
    }
    return apply(command);
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
    // a configuration or commit-index entry: nothing to apply, but the position moves on; one replayed from
    // before the stored state's position (after a restart, from the last snapshot on) is behind it already
    if (index <= getLastAppliedTermIndex().getIndex()) {
      return;
    }
    super.notifyTermIndexUpdated(term, index);
    applied.advance(index);
  }

  /**
   * A read: Ratis calls this once the local state is at least at the read index. Empty, it is a linearizable
   * read's barrier; otherwise a query another member sent to this one as the leader.
   */
  @Override
  public CompletableFuture<Message> query(Message request) {
    if (request.getContent().isEmpty()) {
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
    ByteString b = ByteString.copyFrom(request.getContent().asReadOnlyByteBuffer());
    return answerQuery(Commands.decode(b)).thenApply(DkvStateMachine::message);
  }

  /**
   * A query any member answers at once, without a leader (the member list a joining member asks for, or a
   * membership request it forwards to the leader).
   */
  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    ByteString b = ByteString.copyFrom(request.getContent().asReadOnlyByteBuffer());
    return answerQuery(Commands.decode(b)).thenApply(DkvStateMachine::message);
  }

  /** The answer to a query another member sent here, encoded; NOT_LEADER for a leader's query elsewhere. */
  CompletableFuture<ByteString> answerQuery(com.google.protobuf.Message query) {
    LeaderQueries q = leaderQueries;
    return q == null ? CompletableFuture.completedFuture(Commands.encodeError(EtcdError.NOT_LEADER))
        : q.answer(query);
  }

  @Override
  public void notifyLeaderReady() {
    Leadership l = leadership;
    if (l != null) {
      l.ready();
    }
  }

  private final java.util.concurrent.atomic.AtomicLong leaderChanges = new java.util.concurrent.atomic.AtomicLong();

  /** How many times a leader became known to this member (etcd's leader_changes_seen_total). */
  long leaderChanges() {
    return leaderChanges.get();
  }

  private volatile Runnable leaderChange = () -> {};

  /** Tells {@code r} of every change of leader this member sees (it may have stepped down). */
  void onLeaderChange(Runnable r) {
    this.leaderChange = r;
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId leaderId) {
    if (leaderId != null) {
      leaderChanges.incrementAndGet();
    }
    leaderChange.run();
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
