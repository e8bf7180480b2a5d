package io.dkv.server.raft;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.google.protobuf.ByteString;
import io.dkv.server.apply.Applier;
import io.dkv.server.apply.LeaseState;
import io.dkv.server.apply.Proposer;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.dkv.server.alarm.AlarmStore;
import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberRemoveResponse;
import io.etcd.jetcd.api.MemberUpdateRequest;
import io.etcd.jetcd.api.MemberUpdateResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.ProtoUtils;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This member of a Raft cluster on Apache Ratis, as the {@link Proposer} of the write path: a write proposed
 * here is sent to the leader (directly when that is this member), committed by a quorum, applied on every
 * member by {@link DkvStateMachine}, and answered here once this member has applied it too. A single server
 * is a one-member cluster: the same code path.
 */
public final class RaftMember implements Proposer {

  private static final Logger log = LoggerFactory.getLogger(RaftMember.class);
  /** Log entries of proposals on their way at once; the proposals that come meanwhile share the next entry. */
  private static final int MAX_ENTRIES_IN_FLIGHT = 2;
  /** The members' transport: Ratis's gRPC, its followers told of each commit at once. */
  private static final CommitTellingRpc RPC = new CommitTellingRpc();
  /** A batch of proposals stops growing at this size (a larger request goes alone: etcd allows 1.5 MiB). */
  private static final int MAX_ENTRY_BYTES = 1 << 20;
  private static final String META_CLUSTER_ID = "clusterId";
  private static final String META_MEMBER_ID = "memberId";
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);
  private static final long CLIENT_RETRY_MS = 20;
  /** How soon a linearizable read's round is tried again while no leader is known, ready or reachable. */
  private static final long READ_RETRY_MS = 20;
  /**
   * The Raft log's segment size (8MB by default; "1MB" and the like): only whole segments are purged behind a
   * snapshot, so tests of the purge and of snapshot installs use small ones. Not an etcd flag: a system property.
   */
  public static final String SEGMENT_SIZE = "dkv.raft.log.segment.size";

  private final RaftServer server;
  private final RaftGroupId groupId;
  private final RaftPeerId selfId;
  private final long memberId;
  private final long clusterId;
  private final DkvStateMachine stateMachine;
  private final Members members;
  /** Writes sent to the leader from a follower, and queries asked of the leader. */
  private final ReplaceableClient client;
  /** Membership requests forwarded to the leader, and a joining member's request to be admitted. */
  private final ReplaceableClient adminClient;
  /** A follower's commands sent to the leader's batcher: never retried (see {@link #forward}). */
  private final ReplaceableClient forwards;
  private final Membership membership;
  private final boolean joining;
  private volatile java.util.function.Function<com.google.protobuf.Message, com.google.protobuf.Message> leaderQueries;
  private final ClientId localClient = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final Duration requestTimeout;
  /** How long a removed member goes on before it stops: etcd's 10 ticks, so its last answers are sent. */
  private final Duration removalDelay;
  /** How often a member without a leader asks the others whether it was removed ({@link #askWhetherRemoved}). */
  private final Duration removalQueryPeriod;
  /**
   * Where calls into Ratis go when they follow from a Ratis callback (the next batch, the next ReadIndex round,
   * a retry): Ratis may block its calling thread on work of its own threads, so never call it from one of them.
   */
  private final ScheduledExecutorService retries;
  /** The thread proposals are sent to Ratis from, in order (see {@link Batcher}). */
  private final java.util.concurrent.ExecutorService proposals = Executors.newSingleThreadExecutor(
      new ThreadFactoryBuilder().setNameFormat("dkv-raft-propose").setDaemon(true).build());
  private final List<RaftPeer> clientPeers;
  private final java.util.concurrent.atomic.AtomicLong pending = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
  private final Path raftDir;
  private final CompletableFuture<Void> published = new CompletableFuture<>();
  private static final Duration MEMBERSHIP_TIMEOUT = Duration.ofSeconds(30);
  /** The confirmed read index of a linearizable read's barrier, one round for the reads that came meanwhile. */
  private final Rounds<Long> readRounds;
  /** The leader's confirmations ({@link LeaderCheck}), one round for its own reads and the followers' asked. */
  private final Rounds<Long> leaderRounds;
  // completed on the thread of the reply that confirms (Ratis's gRPC executor, as Ratis's own ReadIndex completed):
  // not the JDK's common pool, whose two threads Ratis's followers need for every append (an embedded cluster's
  // members share them)
  private final LeaderCheck leaderCheck = new LeaderCheck(Runnable::run);
  private final Batcher<Committed> batcher;
  private volatile boolean closed;
  /** Completes once this member applied its own removal and it is time to stop ({@link #removed()}). */
  private final CompletableFuture<Void> removed = new CompletableFuture<>();
  private final java.util.concurrent.atomic.AtomicBoolean removalSeen = new java.util.concurrent.atomic.AtomicBoolean();
  private final MvccStore store;
  private volatile CorruptionCheck corruptionCheck;
  private final LeaderLoss leaderLoss;
  private final LeaderLossRaft leaderLossRaft;
  private final Duration electionTimeout;
  /** Answers the other members' HashKV requests (a scan of the whole store) off Ratis's threads. */
  private final java.util.concurrent.ExecutorService hashes = Executors.newSingleThreadExecutor(
      new ThreadFactoryBuilder().setNameFormat("dkv-hashkv").setDaemon(true).build());

  /** This member's and its cluster's ids: stored with the state, or (for a new member) derived from the flags. */
  public record Ids(long memberId, long clusterId) {}

  /**
   * The ids of the member whose state is in {@code backend} and whose log is in {@code raftDir}: the stored
   * ones, or for a member without a log, the ones etcd derives from {@code cfg} (then stored).
   */
  public static Ids ids(ClusterConfig cfg, Path raftDir, Backend backend) throws IOException {
    long storedMember = backend.getMeta(META_MEMBER_ID, 0);
    if (storedMember != 0 && hasLog(raftDir)) {
      return new Ids(storedMember, backend.getMeta(META_CLUSTER_ID, 0));
    }
    Ids ids;
    if (cfg.existing()) {
      // joining a running cluster: the id MemberAdd gave this member's peer URLs, as the cluster tells it
      Join.Found found = Join.lookup(cfg, JOIN_TIMEOUT);
      ids = new Ids(found.memberId(), found.clusterId());
    } else {
      ids = new Ids(cfg.memberId(cfg.name()), cfg.clusterId());
    }
    try (org.rocksdb.WriteBatch wb = new org.rocksdb.WriteBatch()) {
      backend.putMeta(wb, META_MEMBER_ID, ids.memberId());
      backend.putMeta(wb, META_CLUSTER_ID, ids.clusterId());
      backend.write(wb, true);
    }
    return ids;
  }

  private static boolean hasLog(Path raftDir) throws IOException {
    return Files.isDirectory(raftDir) && !isEmpty(raftDir);
  }

  private RaftMember(ClusterConfig cfg, Ids ids, Path raftDir, Backend backend, MvccStore store,
      LeaseState leases, AlarmStore alarms, Consumer<List<Event>> committed, Runnable stateReplaced)
      throws IOException {
    boolean fresh = !hasLog(raftDir);
    this.store = store;
    this.raftDir = raftDir;
    this.memberId = ids.memberId();
    this.clusterId = ids.clusterId();
    this.groupId = RaftGroupId.valueOf(new UUID(clusterId, clusterId));
    this.selfId = RaftPeerId.valueOf(MemberIds.hex(memberId));
    this.requestTimeout = requestTimeout(cfg);
    this.removalDelay = cfg.heartbeatInterval().multipliedBy(10);
    this.removalQueryPeriod = cfg.electionTimeout().multipliedBy(5);
    this.members = Members.load(backend);
    if (members.isRemoved(memberId)) {
      // it applied its own removal before it stopped: as etcd's, it stops again
      logRemoved();
      throw new MemberRemovedException(MemberIds.hex(memberId));
    }

    this.joining = fresh && cfg.existing();
    List<RaftPeer> initial = new ArrayList<>();
    boolean joiningAsLearner = false;
    if (joining) {
      Join.Found found = Join.lookup(cfg, JOIN_TIMEOUT);
      initial.addAll(found.peers());
      joiningAsLearner = found.learner();
    } else {
      for (Map.Entry<String, List<String>> m : cfg.initialCluster().entrySet()) {
        initial.add(peer(cfg.memberId(m.getKey()), m.getValue().get(0)));
      }
    }
    // a member joining a running cluster as a voter starts without a configuration and waits to be added; a
    // member with a log takes its configuration from the log, whatever the flags say (as etcd)
    List<RaftPeer> peers = fresh && !cfg.existing() ? initial : List.of();
    if (joiningAsLearner) {
      // A learner joins as what it is in Ratis, a listener, in a configuration of its own until the leader's
      // reaches it (index -1: any entry of the leader's log replaces it). Ratis then runs its division (as it
      // runs a listener restarted on its log): one started outside any configuration stays "starting" until
      // the leader counts it caught up, which Ratis never does for a listener, so that after its promotion (one
      // configuration change, listener to follower: Membership#reconcile) it could neither vote nor stand for
      // election.
      List<RaftPeer> withSelf = new ArrayList<>(initial);
      withSelf.add(RaftPeer.newBuilder(peer(memberId, cfg.advertisePeerUrls().get(0)))
          .setStartupRole(RaftPeerRole.LISTENER).build());
      peers = withSelf;
    }
    RaftGroup group = RaftGroup.valueOf(groupId, peers);
    RaftProperties props = properties(cfg, raftDir);
    this.stateMachine = new DkvStateMachine(backend, store, new Applier(store, leases, alarms), members,
        committed);
    stateMachine.onStateReplaced(stateReplaced::run);
    Files.createDirectories(raftDir);
    if (!fresh) {
      try {
        LogCheck.check(raftDir);
      } catch (IOException e) {
        throw new IOException("refusing to serve: " + e.getMessage()
            + "; restore this member from a backup or, in a cluster, replace it (docs/operations.md)", e);
      }
    }
    if (!fresh && cfg.forceNewCluster()) {
      forceNewCluster(cfg, raftDir, store, props);
    }
    this.server = RaftServer.newBuilder()
        .setServerId(selfId)
        .setGroup(group)
        .setProperties(props)
        .setStateMachine(stateMachine)
        .setParameters(leaderCheckParameter())
        .setOption(fresh ? RaftStorage.StartupOption.FORMAT : RaftStorage.StartupOption.RECOVER)
        .build();
    try {
      server.start();
      stateMachine.leading(() -> { // only once the division exists (asking for it while it starts would wait)
        try {
          return server.getDivision(groupId).getInfo().isLeader();
        } catch (IOException | RuntimeException e) {
          return false;
        }
      });
      checkLogHoldsTheState(store, raftDir);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw damaged(raftDir, e);
    }
    // Ratis reports its listener as the wildcard address; the host is the one it was told to bind, the port its own
    String peerAddress = cfg.listenPeer().getHost() + ":" + server.getServerRpc().getInetSocketAddress().getPort();
    clientPeers = new ArrayList<>();
    var current = division().getRaftConf().getAllPeers();
    for (RaftPeer p : current.isEmpty() ? initial : current) {
      clientPeers.add(p.getId().equals(selfId)
          ? RaftPeer.newBuilder(p).setAddress(peerAddress).build()
          : p);
    }
    this.retries = Executors.newSingleThreadScheduledExecutor(
        new ThreadFactoryBuilder().setNameFormat("dkv-raft-calls").setDaemon(true).build());
    // a Ratis client whose request ran out of retries is closed for good: replaced then (ReplaceableClient);
    // a write is retried on the sender's thread, as every write is sent
    this.client = new ReplaceableClient("client", this::newClient, proposals);
    this.adminClient = new ReplaceableClient("admin client", this::newAdminClient, retries);
    this.forwards = new ReplaceableClient("forwarding client", this::newForwardingClient, proposals);
    this.membership = new Membership(new Membership.Raft() {
      @Override
      public RaftServer.Division division() {
        return RaftMember.this.division();
      }

      @Override
      public long selfId() {
        return memberId;
      }

      @Override
      public CompletableFuture<com.google.protobuf.Message> propose(com.google.protobuf.Message command) {
        return RaftMember.this.propose(command);
      }

      @Override
      public CompletableFuture<RaftClientReply> setConfiguration(SetConfigurationRequest.Arguments arguments) {
        try {
          return server.setConfigurationAsync(new SetConfigurationRequest(localClient, selfId, groupId,
              callIds.incrementAndGet(), arguments));
        } catch (IOException e) {
          return CompletableFuture.failedFuture(e);
        }
      }
    }, members, java.time.Clock.systemUTC());
    stateMachine.answerLeaderQueries(this::answerQuery);
    stateMachine.onMemberRemoved(this::checkRemoved);
    this.electionTimeout = cfg.electionTimeout();
    this.leaderLossRaft = new LeaderLossRaft();
    this.leaderLoss = new LeaderLoss(leaderLossRaft, cfg.electionTimeout(), cfg.heartbeatInterval().dividedBy(4),
        retries);
    this.readRounds = new Rounds<>(this::readIndexRound, retries);
    this.leaderRounds = new Rounds<>(this::confirmedIndex, retries);
    stateMachine.onLeaderChange(leaderCheck::stepDown);
    this.batcher = new Batcher<>(this::proposeEntry, this::answers, proposals, MAX_ENTRIES_IN_FLIGHT,
        MAX_ENTRY_BYTES);
    log.info("member {} ({}) of cluster {}: peers on {}, {} member(s) in its configuration",
        MemberIds.hex(memberId), cfg.name(), MemberIds.hex(clusterId), peerAddress, current.size());
    if (joining) {
      retries.execute(this::admitSelf);
    }
    retries.schedule(this::askWhetherRemoved, 2 * cfg.electionTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The client writes and leader queries go through: retries within the request timeout, 20 ms apart. After a
   * leader died the client tries the members in turn (the dead one refuses at once, the others name the old
   * leader until they hear from the new one), so the pause between attempts is what a write waits after the new
   * leader is ready: with 100 ms, a failover took 250 ms more than the election.
   */
  private RaftClient newClient() {
    RaftProperties clientProps = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(clientProps, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    return RaftClient.newBuilder()
        .setProperties(clientProps)
        .setRaftGroup(RaftGroup.valueOf(groupId, clientPeers))
        .setLeaderId(null)
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
            (int) Math.max(1, requestTimeout.toMillis() / CLIENT_RETRY_MS),
            TimeDuration.valueOf(CLIENT_RETRY_MS, TimeUnit.MILLISECONDS)))
        .build();
  }

  /** Commands forwarded to the leader: sent once, within the request timeout. */
  private RaftClient newForwardingClient() {
    RaftProperties props = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(requestTimeout.toMillis(),
        TimeUnit.MILLISECONDS));
    return RaftClient.newBuilder()
        .setProperties(props)
        .setRaftGroup(RaftGroup.valueOf(groupId, clientPeers))
        .setRetryPolicy(RetryPolicies.noRetry())
        .build();
  }

  /** Membership requests forwarded to the leader may wait for Ratis to catch a new peer up: longer, no retry. */
  private RaftClient newAdminClient() {
    RaftProperties adminProps = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(adminProps, TimeDuration.valueOf(MEMBERSHIP_TIMEOUT.toMillis(),
        TimeUnit.MILLISECONDS));
    return RaftClient.newBuilder()
        .setProperties(adminProps)
        .setRaftGroup(RaftGroup.valueOf(groupId, clientPeers))
        .setRetryPolicy(RetryPolicies.noRetry())
        .build();
  }

  /**
   * Starts this member on {@code raftDir} (the Raft log, its metadata and the snapshots) over the state in
   * {@code backend}. {@code committed} gets the events of every applied write; {@code stateReplaced} runs (on
   * the applier thread) when the leader's snapshot has replaced the state, for what else read it.
   */
  public static RaftMember start(ClusterConfig cfg, Ids ids, Path raftDir, Backend backend, MvccStore store,
      LeaseState leases, AlarmStore alarms, Consumer<List<Event>> committed, Runnable stateReplaced)
      throws IOException {
    return new RaftMember(cfg, ids, raftDir, backend, store, leases, alarms, committed, stateReplaced);
  }

  /**
   * Etcd's initial corruption check ({@code --experimental-initial-corrupt-check}), before the member starts: if
   * it has data (a Raft log), its HashKV at its current revision is compared with the other members' at that
   * revision, asked on their peer ports.
   *
   * @throws IOException with etcd's message, {@code <member id> found data inconsistency with peers}, if a member
   *     with the same compact revision has another hash
   */
  public static void checkInitialHashKV(ClusterConfig cfg, Ids ids, Path raftDir, Backend backend,
      MvccStore store) throws IOException {
    if (!hasLog(raftDir)) {
      return; // a new member has nothing to compare yet, as etcd's
    }
    Members members = Members.load(backend);
    RaftGroupId group = RaftGroupId.valueOf(new UUID(ids.clusterId(), ids.clusterId()));
    Duration timeout = requestTimeout(cfg);
    CorruptionCheck.initial(ids.memberId(), store.hashKv(0),
        rev -> PeerHashes.ask(group, ids.memberId(), members.all(), rev, timeout));
  }

  /** Etcd's ReqTimeout: 5 s and twice the election timeout. */
  private static Duration requestTimeout(ClusterConfig cfg) {
    return Duration.ofSeconds(5).plus(cfg.electionTimeout().multipliedBy(2));
  }

  /**
   * Etcd's periodic corruption check ({@code --experimental-corrupt-check-time}): every {@code interval}, while
   * this member leads, its HashKV is compared with every other member's at the same revision; a mismatch raises
   * the CORRUPT alarm through the log.
   */
  public void checkHashesEvery(Duration interval) {
    corruptionCheck = CorruptionCheck.every(interval, requestTimeout, new CorruptionCheck.Hasher() {
      @Override
      public long selfId() {
        return memberId;
      }

      @Override
      public MvccStore.Hash hashKv(long rev) {
        return store.hashKv(rev);
      }

      @Override
      public List<PeerHashes.Answer> peerHashes(long rev) {
        return PeerHashes.ask(groupId, memberId, membership.list(), rev, requestTimeout);
      }

      @Override
      public CompletableFuture<Void> readBarrier() {
        return RaftMember.this.readBarrier();
      }

      @Override
      public boolean isLeader() {
        return !closed && RaftMember.this.isLeader();
      }

      @Override
      public void raiseCorrupt() {
        propose(AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.ACTIVATE).setMemberID(0)
            .setAlarmValue(AlarmStore.CORRUPT).build()).whenComplete((r, e) -> {
              if (e != null) {
                log.warn("raising the CORRUPT alarm failed: {}", e.toString());
              }
            });
      }
    });
  }

  /** Etcd's --force-new-cluster: the log rewritten so that this member starts as the only one ({@link ForceNewCluster}). */
  private void forceNewCluster(ClusterConfig cfg, Path raftDir, MvccStore store, RaftProperties props)
      throws IOException {
    long stateIndex = store.appliedIndex() == 0 && store.appliedTerm() == 0 ? -1 : store.appliedIndex();
    var checkpoint = new Snapshots(raftDir.resolve(groupId.getUuid().toString()).resolve("sm")).latest();
    long snapshotIndex = checkpoint != null ? checkpoint.getIndex() : stateIndex;
    List<Long> known = members.all().stream().map(Member::getID).toList();
    ForceNewCluster.Result r = ForceNewCluster.rewrite(raftDir, groupId,
        peer(memberId, cfg.advertisePeerUrls().get(0)), snapshotIndex, Math.max(stateIndex, snapshotIndex),
        store.appliedTerm(), known, props);
    log.warn("forcing restart member {} of cluster {} as the only member of its cluster (--force-new-cluster): "
        + "commit index {}, {} uncommitted entries discarded, members removed: {}; the new configuration from log "
        + "index {}. Start it without --force-new-cluster from now on, and add the other members back with "
        + "etcdctl member add", MemberIds.hex(memberId), MemberIds.hex(clusterId), r.commitIndex(), r.discarded(),
        r.removed().stream().map(MemberIds::hex).toList(), r.firstNewIndex());
  }

  /**
   * The state may never be ahead of the log: every entry it applied was committed, so the log (or the
   * snapshot it starts after) must hold it. Otherwise committed entries are gone from the log.
   */
  private void checkLogHoldsTheState(MvccStore store, Path raftDir) throws IOException {
    var log = division().getRaftLog();
    long last = log.getLastEntryTermIndex() == null ? -1 : log.getLastEntryTermIndex().getIndex();
    long snapshot = stateMachine.checkpointIndex(); // not Ratis's view: before a checkpoint, that is the state
    long applied = store.appliedIndex();
    if (store.appliedTerm() != 0 && Math.max(last, snapshot) < applied) {
      throw new IOException("the Raft log in " + raftDir + " ends at index " + Math.max(last, snapshot)
          + " but the state has applied up to " + applied + ": committed entries are missing from the log");
    }
  }

  /**
   * A start that failed: if on damage Ratis found in the log, one line naming the file (when Ratis names it),
   * and that the member refuses to serve; otherwise what failed.
   */
  private static IOException damaged(Path raftDir, Exception e) {
    if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith("the Raft log in")) {
      return new IOException("refusing to serve: " + io.getMessage(), io);
    }
    Throwable root = e;
    boolean corrupt = false;
    String file = null;
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      String m = String.valueOf(c.getMessage());
      corrupt |= c instanceof org.apache.ratis.protocol.exceptions.ChecksumException || m.contains("corrupt")
          || m.contains("Failed to read segment");
      java.util.regex.Matcher f = java.util.regex.Pattern.compile("(/\\S*log_(inprogress_)?\\d+(-\\d+)?)").matcher(m);
      if (file == null && f.find()) {
        file = f.group(1);
      }
      root = c;
    }
    String why = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    if (!corrupt) {
      return new IOException("cannot start the Raft member on " + raftDir + ": " + why, e);
    }
    return new IOException("refusing to serve: the Raft log " + (file != null ? file : raftDir.toString())
        + " is damaged (" + why + "); restore this member from a backup or, in a cluster, replace it "
        + "(docs/operations.md)", e);
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }

  private static RaftPeer peer(long id, String peerUrl) {
    java.net.URI u = java.net.URI.create(peerUrl);
    return RaftPeer.newBuilder().setId(MemberIds.hex(id)).setAddress(u.getHost() + ":" + u.getPort()).build();
  }

  private static RaftProperties properties(ClusterConfig cfg, Path raftDir) {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
    RaftConfigKeys.Rpc.setType(p, RPC);
    GrpcConfigKeys.Server.setHost(p, cfg.listenPeer().getHost());
    GrpcConfigKeys.Server.setPort(p, cfg.listenPeer().getPort());
    // A follower stands after at least an election timeout without hearing from a leader, as etcd's; at most 1.2
    // times it, not etcd's twice: Ratis's follower sleeps a random timeout and only then looks at the silence, so
    // it notices a dead leader after the rest of one draw plus a whole second one (etcd's after one draw). With
    // [E, 2E] the first of two followers stood 1.7 E after the kill on average (etcd's 1.3 E); with [E, 1.2 E],
    // 1.2 E. The 0.2 E of jitter still parts two candidates: a vote takes milliseconds between members
    long election = cfg.electionTimeout().toMillis();
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(election, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(election + election / 5, TimeUnit.MILLISECONDS));
    // how long a new member being caught up before a configuration change may go without answering the leader
    // (a checkpoint install): Ratis's fallback is three times the maximum above, 3.6 s by default; kept at the
    // 6 s it was with [E, 2E]
    RaftServerConfigKeys.setStagingTimeout(p, TimeDuration.valueOf(6 * election, TimeUnit.MILLISECONDS));
    if ((cfg.initialCluster().size() == 1 && !cfg.existing()) || cfg.forceNewCluster()) {
      // alone, nobody else can win an election: do not wait a whole timeout to lead
      RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, TimeDuration.valueOf(10, TimeUnit.MILLISECONDS));
      RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, TimeDuration.valueOf(20, TimeUnit.MILLISECONDS));
    }
    RaftServerConfigKeys.LeaderElection.setPreVote(p, cfg.preVote());
    p.setTimeDuration(CommitTellingRpc.HEARTBEAT_KEY,
        TimeDuration.valueOf(cfg.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, cfg.snapshotCount());
    // as etcd: purge behind each snapshot whatever the followers have, but keep 5,000 entries for those that lag
    // a little (fewer with a smaller --snapshot-count); a member further behind gets the snapshot
    long keep = Math.min(5000, cfg.snapshotCount());
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, keep);
    RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(1024, cfg.snapshotCount()));
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true); // the leader sends its checkpoint
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(System.getProperty(SEGMENT_SIZE, "8MB")));
    // Ratis fills a segment with zeros ahead of the writes, by this much at a time, and the next sync writes them
    // out: 4 MB by default, some 30 ms at every new segment, which a new leader opens for its term before its first
    // commit (on the way of a failover)
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf("256KB"));
    // the entries a lagging follower may still need, not Ratis's 200 MB default: the state is in RocksDB
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    RaftServerConfigKeys.Log.setSegmentCacheSizeMax(p, SizeInBytes.valueOf("16MB"));
    // no commit-index entries in the log: the leader's appenders tell the followers of each commit at once
    // (CommitTellingRpc), without a second entry written and synced on every member per write
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    RaftServerConfigKeys.Log.setCorruptionPolicy(p, RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION);
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf("8MB")); // above etcd's largest request
    return p;
  }

  /** This member's id (etcd's member id). */
  public long memberId() {
    return memberId;
  }

  /** The cluster's id (etcd's cluster id). */
  public long clusterId() {
    return clusterId;
  }

  private RaftServer.Division division() {
    try {
      return server.getDivision(groupId);
    } catch (IOException e) {
      throw new IllegalStateException("Raft group " + groupId + " is not on this server", e);
    }
  }

  @Override
  public boolean isLeader() {
    return division().getInfo().isLeader();
  }

  /** The leader's member id, or 0 if none is known. */
  public long leaderId() {
    RaftPeerId leader = division().getInfo().getLeaderId();
    return leader == null ? 0 : Long.parseUnsignedLong(leader.toString(), 16);
  }

  /** The current Raft term. */
  public long term() {
    return division().getInfo().getCurrentTerm();
  }

  /** The index of the last committed entry this member knows of. */
  public long commitIndex() {
    return division().getRaftLog().getLastCommittedIndex();
  }

  /** Proposals of this member not answered yet. */
  public long pendingProposals() {
    return pending.get();
  }

  /** Proposals of this member that failed without being committed (timeout, no leader, stopped). */
  public long failedProposals() {
    return failed.get();
  }

  /** Bytes of this member's Raft log segments and of its snapshots. */
  public long[] diskSizes() {
    long[] sizes = new long[2];
    try (var s = Files.walk(raftDir)) {
      s.filter(Files::isRegularFile).forEach(f -> {
        String name = f.getFileName().toString();
        long len = f.toFile().length();
        if (name.startsWith("log_")) {
          sizes[0] += len;
        } else if (f.toString().contains("/sm/snapshot.")) {
          sizes[1] += len;
        }
      });
    } catch (IOException | java.io.UncheckedIOException e) {
      // a file removed while walking (a purge): the next scrape counts again
    }
    return sizes;
  }

  /** The index of the last entry applied here (Ratis's own entries included). */
  public long appliedIndex() {
    return division().getInfo().getLastAppliedIndex();
  }

  /**
   * The members as this member's applied state and configuration have them, as etcd's MemberList lists them: a
   * member that has not published its name yet (here: not applied its publication) is listed unstarted, this
   * member included (etcd serves clients only once its own publication is applied: {@link #published}).
   */
  public List<Member> members() {
    return membership.list();
  }

  /**
   * Completes once this member's own publication ({@link #publish}) is applied here, so that its member list
   * names it, as etcd's (which serves no client before that); at the latest after the request timeout (without a
   * quorum the list still answers).
   */
  public CompletableFuture<Void> published() {
    return published.copy().completeOnTimeout(null, requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Publishes this member's name, peer and client URLs through the log (etcd's member attributes), retrying
   * until a leader commits it.
   */
  public void publish(Member self) {
    Member current = members.get(memberId);
    if (current != null && current.getName().equals(self.getName())
        && current.getClientURLsList().equals(self.getClientURLsList())) {
      published.complete(null);
      return;
    }
    propose(self).whenComplete((r, e) -> {
      if (e == null) {
        published.complete(null); // answered once applied here
      } else if (!closed) {
        log.debug("publishing member attributes failed; retrying", e);
        retries.schedule(() -> publish(self), 200, TimeUnit.MILLISECONDS);
      }
    });
  }

  @Override
  public void answerLeaderQueries(java.util.function.Function<com.google.protobuf.Message, com.google.protobuf.Message> q) {
    this.leaderQueries = q;
  }

  /**
   * A query another member (or a joining one) sent here: the member list, answered by any member; a membership
   * request, run by the leader (forwarded to it by any other member); or one of {@link #answerLeaderQueries}.
   */
  private CompletableFuture<ByteString> answerQuery(com.google.protobuf.Message m) {
    if (m instanceof MemberListRequest) {
      return CompletableFuture.completedFuture(Commands.encode(MemberListResponse.newBuilder()
          .setHeader(io.etcd.jetcd.api.ResponseHeader.newBuilder().setClusterId(clusterId).setMemberId(memberId))
          .addAllMembers(members()).build()));
    }
    if (m instanceof com.google.protobuf.Int64Value asked) {
      // another member asks whether it was removed (it may have been down or cut off meanwhile)
      return CompletableFuture.completedFuture(Commands.encode(
          com.google.protobuf.BoolValue.of(members.isRemoved(asked.getValue()))));
    }
    if (m instanceof com.google.protobuf.StringValue leader) {
      // a follower asks whether this member, too, has not heard from that leader for an election timeout
      return CompletableFuture.completedFuture(Commands.encode(com.google.protobuf.BoolValue.of(
          LeaderLoss.agrees(followerView(), isLeader(), leader.getValue(), electionTimeout.toMillis()))));
    }
    if (m instanceof HashKVRequest h) {
      return CompletableFuture.supplyAsync(() -> hashKv(h.getRevision()), hashes);
    }
    if (m instanceof com.google.protobuf.Empty) {
      // a follower's linearizable read asks the leader for its confirmed read index
      return leaderRounds.join().handle((index, e) -> e == null
          ? Commands.encode(com.google.protobuf.Int64Value.of(index)) : Commands.encodeError(failure(e).error()));
    }
    if (m instanceof com.google.protobuf.BytesValue forwarded) {
      return forwarded(Commands.unbatch(forwarded.getValue()));
    }
    if (Membership.handles(m)) {
      CompletableFuture<com.google.protobuf.Message> answer = isLeader() ? membership.handle(m) : askLeader(m);
      return answer.handle((r, e) -> e == null ? Commands.encode(r) : Commands.encodeError(failure(e).error()));
    }
    var q = leaderQueries;
    if (!isLeader() || q == null) {
      return CompletableFuture.completedFuture(Commands.encodeError(EtcdError.NOT_LEADER));
    }
    try {
      return CompletableFuture.completedFuture(Commands.encode(q.apply(m)));
    } catch (EtcdException e) {
      return CompletableFuture.completedFuture(Commands.encodeError(e.error()));
    }
  }

  /** This member's HashKV at {@code rev}, for another member's corruption check, encoded. */
  private ByteString hashKv(long rev) {
    try {
      MvccStore.Hash h = store.hashKv(rev);
      return Commands.encode(HashKVResponse.newBuilder()
          .setHeader(io.etcd.jetcd.api.ResponseHeader.newBuilder().setClusterId(clusterId).setMemberId(memberId)
              .setRevision(h.currentRev()).setRaftTerm(term()))
          .setHash(h.hash()).setCompactRevision(h.compactRev()).build());
    } catch (EtcdException e) {
      return Commands.encodeError(e.error());
    }
  }

  /** Etcd's MemberAdd, run by the leader. */
  public CompletableFuture<MemberAddResponse> memberAdd(MemberAddRequest r) {
    return onLeader(r).thenApply(MemberAddResponse.class::cast);
  }

  /** Etcd's MemberRemove, run by the leader. */
  public CompletableFuture<MemberRemoveResponse> memberRemove(MemberRemoveRequest r) {
    return onLeader(r).thenApply(MemberRemoveResponse.class::cast);
  }

  /** Etcd's MemberUpdate, run by the leader. */
  public CompletableFuture<MemberUpdateResponse> memberUpdate(MemberUpdateRequest r) {
    return onLeader(r).thenApply(MemberUpdateResponse.class::cast);
  }

  /**
   * Etcd's MemberPromote of member {@code id}, run by the leader (the only one that knows whether the learner is
   * in sync); the members after it.
   */
  public CompletableFuture<MemberListResponse> memberPromote(long id) {
    return onLeader(com.google.protobuf.UInt64Value.of(id)).thenApply(MemberListResponse.class::cast);
  }

  private CompletableFuture<com.google.protobuf.Message> onLeader(com.google.protobuf.Message r) {
    if (closed) {
      return CompletableFuture.failedFuture(EtcdError.STOPPED.exception());
    }
    if (isLeader()) {
      return membership.handle(r);
    }
    CompletableFuture<com.google.protobuf.Message> answer = askLeader(r, adminClient, MEMBERSHIP_TIMEOUT);
    if (r instanceof MemberRemoveRequest remove && remove.getID() == memberId) {
      // this member's own removal: out of the configuration, it gets nothing more from the leader to apply, and
      // waiting for that held the answer until the member stopped (the client's call was cancelled then)
      return answer;
    }
    // answered once this member has applied the change too, so that its member list shows it (as etcd's)
    return answer.thenCompose(a -> readBarrier().handle((v, e) -> a));
  }

  /**
   * Etcd's MoveLeader: only the leader takes it ({@code etcdserver: not leader} elsewhere), to a voting member
   * ({@code etcdserver: bad leader transferee} otherwise); completes once {@code target} leads.
   */
  public CompletableFuture<Void> moveLeader(long target) {
    if (!isLeader()) {
      return CompletableFuture.failedFuture(EtcdError.NOT_LEADER.exception());
    }
    Member m = membership.list().stream().filter(x -> x.getID() == target).findFirst().orElse(null);
    if (m == null || m.getIsLearner()) {
      return CompletableFuture.failedFuture(EtcdError.BAD_LEADER_TRANSFEREE.exception());
    }
    if (target == memberId) {
      return CompletableFuture.completedFuture(null);
    }
    long timeoutMs = requestTimeout.toMillis();
    CompletableFuture<RaftClientReply> sent;
    try {
      sent = server.transferLeadershipAsync(new TransferLeadershipRequest(localClient, selfId, groupId,
          callIds.incrementAndGet(), RaftPeerId.valueOf(MemberIds.hex(target)), timeoutMs));
    } catch (IOException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    return sent.orTimeout(timeoutMs + 1000, TimeUnit.MILLISECONDS).handle((reply, e) -> {
      if (e != null || !reply.isSuccess()) {
        log.info("moving the leadership to {} failed", MemberIds.hex(target), e != null ? e : reply.getException());
        throw EtcdError.LEADER_TRANSFER_TIMEOUT.exception();
      }
      log.info("leadership moved to {}", MemberIds.hex(target));
      return null;
    });
  }

  /**
   * A member started to join: asks the cluster (any member, which forwards to the leader) to take it into
   * Ratis's configuration, until it is there.
   */
  private void admitSelf() {
    RaftConfiguration conf = division().getRaftConf();
    // a learner's own configuration (index -1) names it; only one from the leader's log counts
    if (closed || conf.getLogEntryIndex() >= 0
        && conf.getPeer(selfId, RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER) != null) {
      return;
    }
    Message m = message(Commands.encode(Member.newBuilder().setID(memberId).build()));
    List<RaftPeer> peers = new ArrayList<>(clientPeers());
    RaftPeerId ask = peers.isEmpty() ? null : peers.get((int) (callIds.incrementAndGet() % peers.size())).getId();
    // asked again and again until admitted: a request sent twice does no harm
    CompletableFuture<RaftClientReply> sent = ask == null ? CompletableFuture.failedFuture(
        new IOException("no peer to ask")) : adminClient.send(c -> c.async().sendStaleRead(m, 0, ask), true);
    sent.whenComplete((reply, e) -> {
      if (closed) {
        return;
      }
      if (e == null && reply.isSuccess()) {
        EtcdError error = Commands.error(ByteString.copyFrom(reply.getMessage().getContent().asReadOnlyByteBuffer()));
        if (error == null) {
          log.info("in the cluster's Raft configuration now");
          return;
        }
        log.debug("asking to join the Raft configuration: {}", error);
      } else {
        log.debug("asking to join the Raft configuration failed; retrying", e);
      }
      retries.schedule(this::admitSelf, 500, TimeUnit.MILLISECONDS);
    });
  }

  private List<RaftPeer> clientPeers() {
    return clientPeers;
  }

  /**
   * Completes once this member has applied its own removal from the cluster (etcd's MemberRemove, or a leader's
   * snapshot without it) and should stop, as etcd's removed member stops: after etcd's delay of ten heartbeat
   * intervals on a follower; on the leader that removed itself, once Ratis's configuration no longer holds it
   * (it handed the leadership on), at the latest after the request timeout.
   */
  public CompletableFuture<Void> removed() {
    return removed.copy();
  }

  /** After an entry removed a member (on the applier thread): whether it was this one. */
  private void checkRemoved() {
    if (closed || !members.isRemoved(memberId) || !removalSeen.compareAndSet(false, true)) {
      return;
    }
    logRemoved();
    long deadline = System.nanoTime() + requestTimeout.toNanos();
    // as etcd's stopWithDelay: the answer to the MemberRemove that removed it (when a client sent it here) and
    // the other calls in flight are answered first, not cut off
    retries.schedule(() -> stopOnceRemoved(deadline), removalDelay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * A member removed while it was down or cut off from the others never applies its removal, and the leader no
   * longer talks to it: as etcd's peers answer such a member's messages with {@code the member has been
   * permanently removed from the cluster}, the others tell it here when it asks, and it stops. It asks while it
   * knows no leader (a removed member never hears of one), two election timeouts after it started and then every
   * five.
   */
  private void askWhetherRemoved() {
    if (closed || removalSeen.get()) {
      return;
    }
    CompletableFuture<Boolean> asked;
    try {
      asked = division().getInfo().getLeaderId() != null ? CompletableFuture.completedFuture(false)
          : PeerQuery.ask(groupId, memberId, membership.list(), com.google.protobuf.Int64Value.of(memberId),
              requestTimeout).thenApply(answers -> answers.stream().anyMatch(RaftMember::saysRemoved));
    } catch (RuntimeException groupGone) {
      return; // closing
    }
    asked.whenComplete((removedThere, e) -> {
      if (Boolean.TRUE.equals(removedThere) && !closed && removalSeen.compareAndSet(false, true)) {
        logRemoved();
        removed.complete(null);
      } else if (!closed) {
        try {
          retries.schedule(this::askWhetherRemoved, removalQueryPeriod.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
          // closing
        }
      }
    });
  }

  private static boolean saysRemoved(PeerQuery.Answer a) {
    if (a.answer() == null || Commands.error(a.answer()) != null) {
      return false;
    }
    return Commands.decode(a.answer()) instanceof com.google.protobuf.BoolValue b && b.getValue();
  }

  private void logRemoved() {
    log.warn("member {} of cluster {}: {}; {}", MemberIds.hex(memberId), MemberIds.hex(clusterId),
        MemberRemovedException.MESSAGE, MemberRemovedException.ADVICE);
  }

  private void stopOnceRemoved(long deadline) {
    if (closed) {
      return;
    }
    boolean stillInConfiguration;
    boolean leading;
    try {
      stillInConfiguration = division().getRaftConf().getPeer(selfId, RaftPeerRole.FOLLOWER) != null;
      leading = isLeader();
    } catch (RuntimeException e) {
      stillInConfiguration = false; // the Raft group is gone here
      leading = false;
    }
    if (!leading || !stillInConfiguration || System.nanoTime() > deadline) {
      removed.complete(null);
    } else {
      retries.schedule(() -> stopOnceRemoved(deadline), 100, TimeUnit.MILLISECONDS);
    }
  }

  /** How many times a leader became known to this member. */
  public long leaderChanges() {
    return stateMachine.leaderChanges();
  }

  /**
   * Tells {@code onReady} when this member becomes a leader ready to serve (at once if it is one already),
   * {@code onChange} of any change.
   */
  public void onLeadership(Runnable onReady, Consumer<Long> onChange) {
    stateMachine.onLeadership(new DkvStateMachine.Leadership() {
      @Override
      public void ready() {
        onReady.run();
      }

      @Override
      public void changed(RaftPeerId leaderId) {
        onChange.accept(leaderId == null ? 0 : Long.parseUnsignedLong(leaderId.toString(), 16));
      }
    });
    if (division().getInfo().isLeader() && division().getInfo().isLeaderReady()) {
      onReady.run();
    }
  }

  @Override
  public CompletableFuture<com.google.protobuf.Message> propose(com.google.protobuf.Message request) {
    if (closed) {
      return CompletableFuture.failedFuture(EtcdError.STOPPED.exception());
    }
    pending.incrementAndGet();
    CompletableFuture<com.google.protobuf.Message> answered =
        batcher.submit(Commands.encode(request)).thenApply(RaftMember::decodeAnswer);
    answered.whenComplete((answer, e) -> {
      pending.decrementAndGet();
      if (e != null && notCommitted(e)) {
        failed.incrementAndGet();
      }
    });
    return answered;
  }

  /** A committed entry: its log index (or a later one's) and its commands' answers, as {@link Commands#batch}. */
  private record Committed(long index, ByteString answers) {}

  /** Proposes one log entry holding {@code commands} (a follower: sends them to the leader); once committed. */
  private CompletableFuture<Committed> proposeEntry(List<ByteString> commands) {
    Message m = message(Commands.batch(commands));
    RaftServer.Division d = division();
    if (d.getInfo().isLeader() && d.getInfo().isLeaderReady()) {
      // Not ready yet (refused before it was appended): sent to the leader through the client, from the sender's
      // thread as every write (not from the Ratis thread that replied, which Ratis's client may block). Not the
      // leader any more is not sent again: Ratis also answers so the entries that were in this leader's log when
      // it stepped down, which the next leader may still commit (sent again, a put was applied twice); it
      // fails with etcd's "leader changed", its outcome unknown to the client, as etcd's dropped proposals
      return written(submit(request(m, RaftClientRequest.writeRequestType()))
          .thenComposeAsync(reply -> reply.getLeaderNotReadyException() != null
              ? sendWrite(m) : CompletableFuture.completedFuture(reply), proposals));
    }
    RaftPeerId leader = d.getInfo().getLeaderId();
    if (leader != null && !leader.equals(selfId)) {
      return forward(commands, m, leader);
    }
    return written(sendWrite(m));
  }

  /** A write sent to the leader through the client (on the sender's thread): never sent twice. */
  private CompletableFuture<RaftClientReply> sendWrite(Message m) {
    return client.send(c -> c.async().send(m), false);
  }

  private CompletableFuture<Committed> written(CompletableFuture<RaftClientReply> sent) {
    return bounded(sent).thenApply(reply -> {
      if (!reply.isSuccess()) {
        throw new CompletionException(failure(reply.getException()));
      }
      return new Committed(reply.getLogIndex(), content(reply));
    });
  }

  /**
   * A follower's entry: its commands go to the leader's batcher, into the leader's next entry together with the
   * leader's own and the other followers' (etcd's leader, too, puts every member's proposals in one append),
   * instead of an entry of their own; under load that is several times fewer entries. Sent once: a forward sent
   * twice would be applied twice (there is no retry cache for them). A member that is not the leader, or not
   * ready, refuses them before it queues them, and a leader that could not be reached never got them: then they
   * go through Ratis's client, which finds the leader and retries. Any other failure leaves the outcome unknown.
   */
  private CompletableFuture<Committed> forward(List<ByteString> commands, Message entry, RaftPeerId leader) {
    Message m = message(Commands.encode(com.google.protobuf.BytesValue.of(Commands.batch(commands))));
    return forwards.send(c -> c.async().sendStaleRead(m, 0, leader), false)
        .handle((reply, e) -> e == null && reply.isSuccess() ? reply : notReached(e == null ? reply.getException() : e))
        .thenComposeAsync(reply -> {
          if (reply == null) {
            return written(sendWrite(entry));
          }
          ByteString answer = content(reply);
          if (Commands.error(answer) == EtcdError.NOT_LEADER) {
            return written(sendWrite(entry));
          }
          List<ByteString> parts = Commands.unbatch(answer);
          return CompletableFuture.completedFuture(new Committed(Commands.forwardedIndex(parts),
              Commands.batch(parts.subList(1, parts.size()))));
        }, proposals)
        .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(e -> {
          throw new CompletionException(failure(e));
        });
  }

  /** Null if the leader was not reached at all (its connection refused): the commands can go another way. */
  private static RaftClientReply notReached(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof java.net.ConnectException) {
        return null;
      }
    }
    throw new CompletionException(e);
  }

  /**
   * Commands a follower forwarded, queued together in this leader's batcher; answered once applied here, with
   * this member's applied index then (the follower waits for it before it answers its clients).
   */
  private CompletableFuture<ByteString> forwarded(List<ByteString> commands) {
    RaftServer.Division d = division();
    if (closed || !d.getInfo().isLeader() || !d.getInfo().isLeaderReady()) {
      return CompletableFuture.completedFuture(Commands.encodeError(EtcdError.NOT_LEADER));
    }
    List<CompletableFuture<ByteString>> answers = batcher.submitAll(commands);
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).handle((v, e) -> {
      List<ByteString> each = new ArrayList<>(answers.size());
      for (CompletableFuture<ByteString> a : answers) {
        each.add(a.handle((answer, failure) -> failure == null ? answer
            : Commands.encodeError(failure(failure).error())).join());
      }
      return Commands.forwardedAnswers(stateMachine.applied().get(), each);
    });
  }

  private static ByteString content(RaftClientReply reply) {
    return ByteString.copyFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
  }

  /** The answers of an entry's commands, once this member applied it. */
  private CompletableFuture<List<ByteString>> answers(List<ByteString> commands, Committed entry) {
    return stateMachine.applied().await(entry.index())
        .thenApply(v -> commands.size() == 1 ? List.of(entry.answers()) : Commands.unbatch(entry.answers()));
  }

  /** A failure before commit (timeout, no leader, stopped), as opposed to an etcd error the applier answered. */
  private static boolean notCommitted(Throwable e) {
    Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (!(c instanceof EtcdException ee)) {
      return true;
    }
    return switch (ee.error()) {
      case STOPPED, NO_LEADER, NOT_LEADER, TIMEOUT, LEADER_CHANGED -> true;
      default -> false;
    };
  }

  private static com.google.protobuf.Message decodeAnswer(ByteString answer) {
    if (answer.isEmpty()) {
      return null;
    }
    EtcdError error = Commands.error(answer);
    if (error != null) {
      throw error.exception();
    }
    return Commands.decode(answer);
  }

  /**
   * A linearizable read's barrier (ReadIndex): completes once this member has applied everything the leader
   * had committed when it was called.
   */
  @Override
  public CompletableFuture<Void> readBarrier() {
    if (closed) {
      return CompletableFuture.failedFuture(EtcdError.STOPPED.exception());
    }
    RaftServer.Division d = division();
    var conf = d.getRaftConf();
    if (d.getInfo().isLeader() && d.getInfo().isLeaderReady() && conf.getPreviousPeers().isEmpty()
        && conf.getCurrentPeers().size() == 1 && conf.getCurrentPeers().iterator().next().getId().equals(selfId)) {
      // the only voter: nobody else can commit, so everything committed is in its own log; no round needed
      return stateMachine.applied().await(d.getRaftLog().getLastCommittedIndex());
    }
    return readRounds.join().thenCompose(index -> stateMachine.applied().await(index));
  }

  /** One round for every linearizable read that joined it (see {@link Rounds}): the confirmed read index. */
  private CompletableFuture<Long> readIndexRound() {
    CompletableFuture<Long> done = new CompletableFuture<>();
    readIndex(System.nanoTime() + requestTimeout.toNanos(), done);
    return done;
  }

  /**
   * The read index, confirmed by this member as the leader or asked of the leader; while no leader is known
   * or ready, tried again until {@code deadline}, as etcd's read waits.
   */
  private void readIndex(long deadline, CompletableFuture<Long> done) {
    long left = deadline - System.nanoTime();
    if (closed || left <= 0) {
      done.completeExceptionally((closed ? EtcdError.STOPPED : EtcdError.TIMEOUT).exception());
      return;
    }
    RaftServer.Division d = division();
    RaftPeerId leader = d.getInfo().getLeaderId();
    CompletableFuture<Long> index;
    if (d.getInfo().isLeader()) {
      index = leaderRounds.join();
    } else if (leader == null) {
      index = CompletableFuture.failedFuture(EtcdError.NO_LEADER.exception());
    } else {
      // a query answered by the leader's state machine at once (a stale read: no ReadIndex of Ratis's first)
      Message m = message(Commands.encode(com.google.protobuf.Empty.getDefaultInstance()));
      index = client.send(c -> c.async().sendStaleRead(m, 0, leader), true).thenApply(reply -> {
        if (!reply.isSuccess()) {
          throw new CompletionException(failure(reply.getException()));
        }
        return ((com.google.protobuf.Int64Value) decodeAnswer(content(reply))).getValue();
      });
    }
    index.orTimeout(left, TimeUnit.NANOSECONDS).whenComplete((i, e) -> {
      if (e == null) {
        done.complete(i);
      } else if (e instanceof TimeoutException || e.getCause() instanceof TimeoutException) {
        done.completeExceptionally(EtcdError.TIMEOUT.exception());
      } else {
        retries.schedule(() -> readIndex(deadline, done), READ_RETRY_MS, TimeUnit.MILLISECONDS);
      }
    });
  }

  /**
   * As the leader: the commit index now, once a majority confirmed this member still leads ({@link LeaderCheck});
   * NOT_LEADER if it does not lead or has not committed an entry of its term yet (until then its commit index
   * may be behind the cluster's).
   */
  private CompletableFuture<Long> confirmedIndex() {
    RaftServer.Division d = division();
    if (closed || !d.getInfo().isLeader() || !d.getInfo().isLeaderReady()) {
      return CompletableFuture.failedFuture(EtcdError.NOT_LEADER.exception());
    }
    long index = d.getRaftLog().getLastCommittedIndex();
    return leaderCheck.confirm(d, requestTimeout.toMillis()).thenApply(v -> index);
  }


  private Parameters leaderCheckParameter() {
    Parameters p = new Parameters();
    p.put(CommitTellingRpc.LEADER_CHECK, leaderCheck, LeaderCheck.class);
    return p;
  }

  /** Sends {@code query} to the leader's {@link #answerLeaderQueries} handler and returns its answer. */
  @Override
  public CompletableFuture<com.google.protobuf.Message> askLeader(com.google.protobuf.Message query) {
    return askLeader(query, client, requestTimeout);
  }

  private CompletableFuture<com.google.protobuf.Message> askLeader(com.google.protobuf.Message query,
      ReplaceableClient via, Duration timeout) {
    RaftPeerId leader = division().getInfo().getLeaderId();
    if (leader == null) {
      return CompletableFuture.failedFuture(EtcdError.NO_LEADER.exception());
    }
    if (leader.equals(selfId)) {
      return stateMachine.answerQuery(query).thenApply(RaftMember::decodeAnswer);
    }
    // a read on the leader, unordered (not queued behind this member's writes): Ratis confirms the leadership
    // (ReadIndex) and then gives it to the leader's state machine
    // a query is a read, asked again if the client was closed; a membership change is not asked twice
    Message m = message(Commands.encode(query));
    return bounded(via.send(c -> c.async().sendReadOnlyUnordered(m, leader), !Membership.handles(query)), timeout)
        .thenApply(reply -> {
      if (!reply.isSuccess()) {
        throw new CompletionException(failure(reply.getException()));
      }
      return decodeAnswer(ByteString.copyFrom(reply.getMessage().getContent().asReadOnlyByteBuffer()));
    });
  }

  private <T> CompletableFuture<T> bounded(CompletableFuture<T> f) {
    return bounded(f, requestTimeout);
  }

  private <T> CompletableFuture<T> bounded(CompletableFuture<T> f, Duration timeout) {
    return f.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).exceptionally(e -> {
      throw new CompletionException(failure(e));
    });
  }

  /** The etcd error a Ratis failure reaches clients as. */
  private EtcdException failure(Throwable e) {
    Throwable c = e;
    while ((c instanceof CompletionException || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof EtcdException ee) {
      return ee;
    }
    if (closed) {
      return EtcdError.STOPPED.exception();
    }
    if (c instanceof TimeoutException) {
      return EtcdError.TIMEOUT.exception(); // etcd's ErrTimeout, with or without a leader
    }
    if (c instanceof NotLeaderException) {
      return EtcdError.LEADER_CHANGED.exception();
    }
    log.warn("Raft request failed: {}", c.toString()); // not a timeout: named, to be understood
    return (division().getInfo().getLeaderId() == null ? EtcdError.NO_LEADER : EtcdError.TIMEOUT).exception();
  }

  private CompletableFuture<RaftClientReply> submit(RaftClientRequest request) {
    try {
      return server.submitClientRequestAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private RaftClientRequest request(Message m, RaftClientRequest.Type type) {
    return RaftClientRequest.newBuilder()
        .setClientId(localClient)
        .setServerId(selfId)
        .setGroupId(groupId)
        .setCallId(callIds.incrementAndGet())
        .setMessage(m)
        .setType(type)
        .build();
  }

  private static Message message(ByteString b) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(b.asReadOnlyByteBuffer()));
  }

  /** Waits (up to {@code timeout}) until this member knows a leader; false if none came. */
  public boolean awaitLeader(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      var info = division().getInfo();
      if (info.getLeaderId() != null && (!info.isLeader() || info.isLeaderReady())) {
        return true;
      }
      try {
        Thread.sleep(5); // a start-up poll of Ratis's state, not a test's synchronisation
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  /** This member as a voting follower with a known leader, or null. */
  private LeaderLoss.Follower followerView() {
    RaftServer.Division d = division();
    var info = d.getInfo();
    RaftPeerId leader = info.getLeaderId();
    if (!info.isFollower() || leader == null) {
      return null;
    }
    var follower = info.getRoleInfoProto().getFollowerInfo();
    // an append being handled is word from the leader (Ratis's follower does not stand meanwhile either)
    long silence = follower.getOutstandingOp() > 0 ? 0 : follower.getLeaderInfo().getLastRpcElapsedTimeMs();
    return new LeaderLoss.Follower(leader.toString(), info.getCurrentTerm(), silence);
  }

  /** What {@link LeaderLoss} does through this member's Raft server. */
  private final class LeaderLossRaft implements LeaderLoss.Raft {
    @Override
    public LeaderLoss.Follower follower() {
      return closed ? null : followerView();
    }

    /** Kept between questions (its connections open); built again when the members change. */
    private PeerQuery.Kept peers;

    @Override
    public synchronized CompletableFuture<Integer> agreeing(String leader) {
      if (closed) {
        return CompletableFuture.failedFuture(EtcdError.STOPPED.exception());
      }
      List<Member> others = PeerQuery.others(memberId, members()).stream().filter(m -> !m.getIsLearner()).toList();
      PeerQuery.Kept kept = peers;
      if (kept == null || !kept.asks(others)) {
        if (kept != null) {
          kept.close();
        }
        kept = new PeerQuery.Kept(groupId, others,
            Duration.ofMillis(Math.max(50, electionTimeout.toMillis() / 4)));
        peers = kept;
      }
      List<Member> asked = others.stream().filter(m -> !MemberIds.hex(m.getID()).equals(leader)).toList();
      return kept.ask(asked, com.google.protobuf.StringValue.of(leader)).thenApply(answers -> {
        int agree = 0;
        for (PeerQuery.Answer a : answers) {
          if (a.answer() != null && Commands.error(a.answer()) == null
              && Commands.decode(a.answer()) instanceof com.google.protobuf.BoolValue b && b.getValue()) {
            agree++;
          }
        }
        return agree;
      });
    }

    @Override
    public int rank(String leader) {
      return (int) division().getRaftConf().getCurrentPeers().stream()
          .map(p -> p.getId().toString())
          .filter(id -> !id.equals(leader) && id.compareTo(selfId.toString()) < 0)
          .count();
    }

    synchronized void close() {
      if (peers != null) {
        peers.close();
      }
    }

    @Override
    public int voters() {
      return division().getRaftConf().getCurrentPeers().size();
    }

    @Override
    public void stand(LeaderLoss.Follower f) {
      TermIndex last = division().getRaftLog().getLastEntryTermIndex();
      if (last == null || division().getInfo().getCurrentTerm() != f.term()) {
        return;
      }
      // Ratis's request by which a leader hands over its leadership: the follower stands at once, without a
      // pre-vote; it takes it only from the leader it follows in this term, with a log no longer than its own
      StartLeaderElectionRequestProto request = StartLeaderElectionRequestProto.newBuilder()
          .setServerRequest(RaftRpcRequestProto.newBuilder()
              .setRequestorId(RaftPeerId.valueOf(f.leader()).toByteString())
              .setReplyId(selfId.toByteString())
              .setRaftGroupId(ProtoUtils.toRaftGroupIdProtoBuilder(groupId)))
          .setLeaderLastEntry(last.toProto())
          .build();
      try {
        if (!server.startLeaderElection(request).getServerReply().getSuccess()) {
          log.debug("Ratis did not take the stand against {} in term {}", f.leader(), f.term());
        }
      } catch (IOException | RuntimeException e) {
        log.debug("standing for election failed", e);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    leaderLoss.close();
    leaderLossRaft.close();
    CorruptionCheck check = corruptionCheck;
    if (check != null) {
      check.close();
    }
    hashes.shutdownNow();
    retries.shutdownNow();
    proposals.shutdownNow();
    membership.close();
    adminClient.close();
    forwards.close();
    client.close();
    try {
      server.close();
    } catch (IOException e) {
      log.warn("closing the Raft server", e);
    }
  }
}
