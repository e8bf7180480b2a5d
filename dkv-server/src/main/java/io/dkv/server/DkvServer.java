package io.dkv.server;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.dkv.server.api.EtcdServices;
import io.dkv.server.alarm.AlarmStore;
import io.dkv.server.api.RequireLeader;
import io.dkv.server.api.Headers;
import io.dkv.server.concurrency.Elections;
import io.dkv.server.concurrency.CommitFeed;
import io.dkv.server.concurrency.Locks;
import io.dkv.server.lease.Lessor;
import io.dkv.server.raft.ClusterConfig;
import io.dkv.server.raft.MemberRemovedException;
import io.dkv.server.raft.RaftMember;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.dkv.server.watch.WatchHub;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberRemoveResponse;
import io.etcd.jetcd.api.MemberUpdateRequest;
import io.etcd.jetcd.api.MemberUpdateResponse;
import io.dkv.server.metrics.GrpcMetrics;
import io.dkv.server.metrics.MetricsEndpoint;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A DKV server: the etcd v3 API over a durable keyspace in one data directory. Start one in-process with
 * {@link #builder()}; {@link Main} runs one standalone.
 *
 * <pre>{@code
 * try (DkvServer server = DkvServer.builder().dataDir(dir).port(0).start()) {
 *   String endpoint = server.endpoint(); // "http://127.0.0.1:<port>", for any etcd client
 * }
 * }</pre>
 */
public final class DkvServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DkvServer.class);

  static {
    CommonPool.ensureParallel(); // an embedded server: unless the application made the pool already
  }

  /** How the server compacts history by itself, as etcd's --auto-compaction-mode. */
  public enum CompactionMode { PERIODIC, REVISION }

  private final Closer closer = new Closer();
  private final Server grpc;
  private final String endpoint;
  private final MetricsEndpoint metrics;
  private volatile boolean closing;
  /** Set once the store is open: any alarm raised makes /health unhealthy, as etcd's. */
  private volatile AlarmStore alarms;
  private RaftMember raft;
  private final CompletableFuture<Void> removedFromCluster = new CompletableFuture<>();

  /**
   * Starts in an order that fails early and unwinds completely: the listen addresses are checked (the metrics
   * listener bound) first, so a busy port fails before anything is created on disk; every resource then
   * registers on {@link #closer} as it is made, so a failure at any step, or {@link #close()}, closes in
   * reverse order everything made before.
   */
  private DkvServer(Builder b) throws IOException {
    try {
      checkCanListen(b.host, b.port);
      checkCanListen(b.listenPeerUrl().getHost(), b.listenPeerUrl().getPort());
      GrpcMetrics grpcMetrics = b.metricsHost == null ? null : new GrpcMetrics();
      metrics = grpcMetrics == null ? null : closer.register(bindMetrics(b, grpcMetrics));

      ClusterConfig cluster = b.clusterConfig();
      Path member = DataLayout.memberDir(b.dataDir);
      Backend backend = closer.register(Backend.open(member.resolve("state")));
      MvccStore store = MvccStore.open(backend);
      Path raftDir = member.resolve("raft");
      RaftMember.Ids ids = RaftMember.ids(cluster, raftDir, backend);
      AtomicReference<RaftMember> raftRef = new AtomicReference<>();
      Headers headers = new Headers(ids.clusterId(), ids.memberId(), () -> {
        RaftMember r = raftRef.get();
        return r == null ? 0 : r.term();
      });
      CommitFeed feed = closer.register(new CommitFeed());
      WatchHub hub = closer.register(new WatchHub(store, headers::at,
          b.maxRequestBytes + EtcdServices.GRPC_OVERHEAD_BYTES, b.progressNotifyInterval));
      Lessor leases = Lessor.open(backend, store);
      AlarmStore alarms = AlarmStore.load(backend);
      this.alarms = alarms;
      if (b.initialCorruptCheck) {
        RaftMember.checkInitialHashKV(cluster, ids, raftDir, backend, store);
      }
      RaftMember raft = closer.register(RaftMember.start(cluster, ids, raftDir, backend, store, leases, alarms,
          events -> {
            hub.publish(events);
            feed.publish(events);
          }, () -> {
            alarms.reload();
            leases.reload();
            hub.resync();
          }));
      raftRef.set(raft);
      raft.removed().thenRun(() -> {
        // not on the thread that reported it (Ratis's applier, which closing the member waits for)
        Thread t = new Thread(() -> {
          log.warn("stopping: {}", MemberRemovedException.MESSAGE);
          close();
          removedFromCluster.complete(null);
        }, "dkv-removed");
        t.start();
      });
      raft.onLeadership(() -> leases.promote(cluster.electionTimeout()), leader -> {
        if (leader != ids.memberId()) {
          leases.demote();
        }
        leaderChanged(leader, ids);
      });

      closer.register(leases).start(raft);
      if (b.compactionMode != null) {
        closer.register(autoCompactor(b, store, raft));
      }
      ExecutorService maintenance = Executors.newCachedThreadPool(
          new ThreadFactoryBuilder().setNameFormat("dkv-maintenance").setDaemon(true).build());
      closer.register(() -> awaitShutdown(maintenance)); // a defragment in progress, before the store closes

      EtcdServices.Parts parts = new EtcdServices.Parts(store, backend, raft, leases, hub,
          new Locks(raft, leases, store, feed), new Elections(raft, leases, store, feed), maintenance,
          clusterView(raft), alarms);
      RequireLeader requireLeader = closer.register(new RequireLeader(raft::leaderId, cluster.electionTimeout()));
      grpc = serveGrpc(b, EtcdServices.all(parts, headers, b.maxRequestBytes, b.maxTxnOps, requireLeader).stream()
          .map(s -> withMetrics(s, grpcMetrics)).toList());
      closer.register(this::stopServing);
      closer.register(hub); // again: stopping ends the watch streams first, so that gRPC can drain
      endpoint = "http://" + b.host + ":" + grpc.getPort();
      this.raft = raft;
      if (((cluster.initialCluster().size() == 1 && !cluster.existing()) || cluster.forceNewCluster())
          && !raft.awaitLeader(cluster.electionTimeout().multipliedBy(5))) {
        log.warn("this single member has not become leader yet");
      }
      // after a single member leads: its publication then goes straight into its own log (before that, Ratis's
      // client would try the advertised peer URL, which an embedded server on a free port does not listen on)
      raft.publish(Member.newBuilder().setID(ids.memberId()).setName(b.name)
          .addAllPeerURLs(cluster.advertisePeerUrls())
          .addAllClientURLs(b.advertiseClientUrls.isEmpty() ? List.of(endpoint) : b.advertiseClientUrls)
          .build());
      if (!b.corruptCheckTime.isZero()) {
        raft.checkHashesEvery(b.corruptCheckTime);
      }
      if (metrics != null) {
        addGauges(metrics, store, backend).start();
        log.info("metrics and health on http://{}:{}/metrics and /health", b.metricsHost, metrics.port());
      }
    } catch (IOException e) {
      throw closer.closeAfter(e);
    } catch (RuntimeException e) {
      throw closer.closeAfter(e);
    } catch (Error e) {
      throw closer.closeAfter(e);
    }
    log.info("dkv-server '{}' serving the etcd v3 API on {}, data in {}", b.name, endpoint, b.dataDir);
  }

  /**
   * Fails, naming the address, if nothing can listen on {@code host:port} now (the client listener itself binds
   * once the store is open, so that a client that can connect is served).
   */
  private static void checkCanListen(String host, int port) throws IOException {
    if (port == 0) {
      return;
    }
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true); // as the listener: a port with connections in TIME_WAIT is free
      probe.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw listenFailure(host, port, e);
    }
  }

  private MetricsEndpoint bindMetrics(Builder b, GrpcMetrics grpcMetrics) throws IOException {
    try {
      return MetricsEndpoint.bind(b.metricsHost, b.metricsPort, grpcMetrics, () -> !closing
          && (alarms == null || alarms.get(0).isEmpty()));
    } catch (IOException e) {
      throw listenFailure(b.metricsHost, b.metricsPort, e);
    }
  }

  private static Server serveGrpc(Builder b, List<ServerServiceDefinition> services) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(b.host, b.port))
        .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE,
            4 * (b.maxRequestBytes + EtcdServices.GRPC_OVERHEAD_BYTES)))
        .permitKeepAliveTime(5, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        // calls run on the event loop that read them: every handler either answers from memory and the
        // store at once or hands the write to the proposer; whole-store scans go to the maintenance pool
        .directExecutor();
    services.forEach(builder::addService);
    try {
      return builder.build().start();
    } catch (IOException e) {
      throw listenFailure(b.host, b.port, e); // taken since the check
    }
  }

  private static IOException listenFailure(String host, int port, IOException e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String reason = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    if (!reason.isEmpty()) {
      reason = Character.toLowerCase(reason.charAt(0)) + reason.substring(1);
    }
    return new IOException("cannot listen on " + host + ":" + port + ": " + reason, e);
  }

  private static ServerServiceDefinition withMetrics(ServerServiceDefinition service, GrpcMetrics grpcMetrics) {
    if (grpcMetrics == null) {
      return service;
    }
    grpcMetrics.register(service);
    return ServerInterceptors.intercept(service, grpcMetrics);
  }

  /** Refuses new calls, lets running ones finish (up to 5 s), then ends the rest. Idempotent. */
  private void stopServing() {
    grpc.shutdown();
    try {
      if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) {
        grpc.shutdownNow();
        grpc.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      grpc.shutdownNow();
    }
  }

  private static void awaitShutdown(ExecutorService executor) {
    executor.shutdown();
    try {
      executor.awaitTermination(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private MetricsEndpoint addGauges(MetricsEndpoint endpoint, MvccStore store, Backend backend) {
    return endpoint
        .gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
            () -> raft.leaderId() == 0 ? 0 : 1)
        .gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
            () -> raft.isLeader() ? 1 : 0)
        .counter("etcd_server_leader_changes_seen_total", "The number of leader changes seen.", raft::leaderChanges)
        .gauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
            raft::commitIndex)
        .gauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
            raft::appliedIndex)
        .gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.",
            raft::pendingProposals)
        .counter("etcd_server_proposals_failed_total", "The total number of failed proposals seen.",
            raft::failedProposals)
        .gauge("dkv_raft_apply_lag_entries", "Committed entries this member has not applied yet.",
            () -> Math.max(0, raft.commitIndex() - raft.appliedIndex()))
        .gauge("dkv_raft_log_size_bytes", "Bytes of this member's Raft log segments.", () -> raft.diskSizes()[0])
        .gauge("dkv_raft_snapshot_size_bytes", "Bytes of this member's snapshots.", () -> raft.diskSizes()[1])
        .gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.", store::currentRevision)
        .gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
            () -> Math.max(0, store.compactRevision()))
        .gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
            backend::size);
  }

  private void leaderChanged(long leader, RaftMember.Ids ids) {
    log.info("leader is now {}{}", leader == 0 ? "unknown" : Long.toHexString(leader),
        leader == ids.memberId() ? " (this member)" : "");
  }

  private static EtcdServices.Cluster clusterView(RaftMember raft) {
    return new EtcdServices.Cluster() {
      @Override
      public List<Member> members() {
        return raft.members();
      }

      @Override
      public long leaderId() {
        return raft.leaderId();
      }

      @Override
      public CompletableFuture<Void> membersBarrier() {
        // this member's own publication first: etcd answers no client before its own is applied
        return raft.published().thenCompose(v -> raft.leaderId() == 0 ? CompletableFuture.completedFuture(null)
            : raft.readBarrier().exceptionally(e -> null));
      }

      @Override
      public long raftIndex() {
        return raft.commitIndex(); // etcd's Status reports the committed index as raft_index
      }

      @Override
      public long appliedIndex() {
        return raft.appliedIndex();
      }

      @Override
      public CompletableFuture<MemberAddResponse> add(MemberAddRequest request) {
        return raft.memberAdd(request);
      }

      @Override
      public CompletableFuture<MemberRemoveResponse> remove(MemberRemoveRequest request) {
        return raft.memberRemove(request);
      }

      @Override
      public CompletableFuture<MemberUpdateResponse> update(MemberUpdateRequest request) {
        return raft.memberUpdate(request);
      }

      @Override
      public CompletableFuture<List<Member>> promote(long id) {
        return raft.memberPromote(id).thenApply(r -> r.getMembersList());
      }

      @Override
      public CompletableFuture<Void> moveLeader(long target) {
        return raft.moveLeader(target);
      }
    };
  }

  private static AutoCompactor autoCompactor(Builder b, MvccStore store, RaftMember p) {
    return switch (b.compactionMode) {
      case PERIODIC -> AutoCompactor.periodic(store, p, AutoCompactor.parsePeriod(b.compactionRetention));
      case REVISION -> AutoCompactor.byRevision(store, p, Long.parseLong(b.compactionRetention),
          b.revisionCompactionInterval);
    };
  }

  /** A builder with etcd's defaults (see {@link Builder}); {@link Builder#start()} starts the server. */
  public static Builder builder() {
    return new Builder();
  }

  /** The client URL, {@code http://host:port}, to give any etcd client. */
  public String endpoint() {
    return endpoint;
  }

  /** The port the server listens on (the bound one when 0 was asked for). */
  public int port() {
    return grpc.getPort();
  }

  /** The port of the metrics and health listener, or -1 when there is none. */
  public int metricsPort() {
    return metrics == null ? -1 : metrics.port();
  }

  /**
   * Completes once this member was removed from its cluster (etcd's MemberRemove) and the server, which then
   * stops by itself as etcd's removed member does ({@code the member has been permanently removed from the
   * cluster}), has closed. Its data directory must not be used again: {@link Builder#start()} on it throws an
   * {@link IOException} with that message.
   */
  public CompletableFuture<Void> removedFromCluster() {
    return removedFromCluster.copy();
  }

  /** Blocks until the server has shut down. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /**
   * Stops serving: ends the watch streams, refuses new calls, lets running ones finish (up to 5 s), then
   * stops the writer and closes the store. Idempotent.
   */
  @Override
  public void close() {
    synchronized (closer) {
      if (closing) {
        return;
      }
      closing = true;
      closer.close();
    }
    log.info("dkv-server stopped");
  }

  /** Options, with etcd's defaults where etcd has them. */
  public static final class Builder {
    private String name = "default";
    private Path dataDir = Path.of("dkv-data");
    private String host = "127.0.0.1";
    private int port = 2379;
    private List<String> advertiseClientUrls = List.of();
    private List<String> peerUrls = List.of("http://localhost:2380");
    private String initialCluster;
    private boolean existing;
    private String token = ClusterConfig.DEFAULT_TOKEN;
    private String listenPeerUrl;
    private Duration electionTimeout = Duration.ofMillis(1000);
    private Duration heartbeatInterval = Duration.ofMillis(100);
    private long snapshotCount = 100_000;
    private long maxRequestBytes = 1536 * 1024;
    private int maxTxnOps = 128;
    private CompactionMode compactionMode;
    private String compactionRetention = "0";
    private Duration revisionCompactionInterval = Duration.ofMinutes(5);
    private Duration progressNotifyInterval = Duration.ofMinutes(10);
    private String metricsHost;
    private int metricsPort;
    private boolean initialCorruptCheck;
    private boolean forceNewCluster;
    private boolean preVote = true;
    private Duration corruptCheckTime = Duration.ZERO;

    private Builder() {}

    /**
     * Serves {@code /metrics} (Prometheus text, etcd's metric names) and {@code /health} over HTTP on
     * {@code host:port}, as etcd's --listen-metrics-urls; port 0 picks a free one, see {@link #metricsPort()}.
     * Off by default.
     */
    public Builder metrics(String host, int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("invalid metrics port " + port);
      }
      this.metricsHost = Objects.requireNonNull(host);
      this.metricsPort = port;
      return this;
    }

    /** The member's name (etcd's --name). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name);
      return this;
    }

    /** Where the data lives (default {@code ./dkv-data}); created if missing. */
    public Builder dataDir(Path dataDir) {
      this.dataDir = Objects.requireNonNull(dataDir);
      return this;
    }

    /** The address to listen on (default 127.0.0.1). */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host);
      return this;
    }

    /** The client port (default 2379); 0 picks a free one, see {@link #port()}. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("invalid port " + port);
      }
      this.port = port;
      return this;
    }

    /** The client URLs the member advertises (default: the one it listens on). */
    public Builder advertiseClientUrls(List<String> urls) {
      this.advertiseClientUrls = List.copyOf(urls);
      return this;
    }

    /**
     * The peer URLs the member advertises to the others (etcd's --initial-advertise-peer-urls; default
     * {@code http://localhost:2380}).
     */
    public Builder peerUrls(List<String> urls) {
      urls.forEach(u -> ClusterConfig.checkPeerUrl(u, "--initial-advertise-peer-urls"));
      this.peerUrls = List.copyOf(urls);
      return this;
    }

    /**
     * The initial members, as etcd's --initial-cluster: {@code name=http://host:port,...}, this member's name
     * among them with its {@link #peerUrls}. Default: this member alone. Used only when the data directory
     * has no Raft log yet.
     */
    public Builder initialCluster(String members) {
      ClusterConfig.parseInitialCluster(members);
      this.initialCluster = members;
      return this;
    }

    /** Etcd's --initial-cluster-state: {@code new} (form a cluster, the default) or {@code existing} (join). */
    public Builder initialClusterState(String state) {
      if (!state.equals("new") && !state.equals("existing")) {
        throw new IllegalArgumentException("invalid --initial-cluster-state \"" + state
            + "\": valid values are \"new\", \"existing\"");
      }
      this.existing = state.equals("existing");
      return this;
    }

    /** Etcd's --initial-cluster-token (default {@code etcd-cluster}), part of every member and cluster id. */
    public Builder initialClusterToken(String token) {
      this.token = Objects.requireNonNull(token);
      return this;
    }

    /**
     * Where to listen for the other members (etcd's --listen-peer-urls, {@code http://host:port}). Default:
     * the host and port of the first {@link #peerUrls} in a cluster of several; alone, a free loopback port.
     */
    public Builder listenPeerUrl(String url) {
      ClusterConfig.checkPeerUrl(url, "--listen-peer-urls");
      this.listenPeerUrl = url;
      return this;
    }

    /** Etcd's --election-timeout (default 1000 ms); at least 5 heartbeat intervals. */
    public Builder electionTimeout(Duration timeout) {
      this.electionTimeout = Objects.requireNonNull(timeout);
      return this;
    }

    /**
     * Etcd's --heartbeat-interval (default 100 ms). Ratis's leader sends heartbeats at half the minimum
     * election timeout, so this is checked against the election timeout as etcd checks it.
     */
    public Builder heartbeatInterval(Duration interval) {
      this.heartbeatInterval = Objects.requireNonNull(interval);
      return this;
    }

    /**
     * Etcd's --snapshot-count (default 100,000): after this many applied entries the state is made durable
     * and the Raft log before it (but the last 5,000 entries) purged.
     */
    public Builder snapshotCount(long count) {
      this.snapshotCount = count;
      return this;
    }

    java.net.URI listenPeerUrl() {
      if (listenPeerUrl != null) {
        return java.net.URI.create(listenPeerUrl);
      }
      if (initialCluster == null) {
        return java.net.URI.create("http://127.0.0.1:0");
      }
      return java.net.URI.create(peerUrls.get(0));
    }

    ClusterConfig clusterConfig() {
      String members = initialCluster != null ? initialCluster : name + "=" + String.join("," + name + "=", peerUrls);
      return new ClusterConfig(name, ClusterConfig.parseInitialCluster(members), existing, token, peerUrls,
          listenPeerUrl(), electionTimeout, heartbeatInterval, snapshotCount, forceNewCluster, preVote).validate();
    }

    /** The largest write request accepted (default 1.5 MiB, as etcd). */
    public Builder maxRequestBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("max request bytes must be positive");
      }
      this.maxRequestBytes = bytes;
      return this;
    }

    /** The most operations in one txn branch (default 128, as etcd). */
    public Builder maxTxnOps(int ops) {
      if (ops <= 0) {
        throw new IllegalArgumentException("max txn ops must be positive");
      }
      this.maxTxnOps = ops;
      return this;
    }

    /**
     * Compacts history automatically, as etcd's --auto-compaction-mode and --auto-compaction-retention:
     * {@code PERIODIC} keeps a period ("1" hour, "30m", "1h30m"); {@code REVISION} keeps a number of
     * revisions. Off by default.
     */
    public Builder autoCompaction(CompactionMode mode, String retention) {
      if (mode == CompactionMode.PERIODIC) {
        AutoCompactor.parsePeriod(retention);
      } else if (mode == CompactionMode.REVISION && Long.parseLong(retention) <= 0) {
        throw new IllegalArgumentException("revision retention must be positive: " + retention);
      }
      this.compactionMode = mode;
      this.compactionRetention = retention;
      return this;
    }

    /**
     * How often watchers that asked for progress notifications get one (etcd's
     * --experimental-watch-progress-notify-interval, default 10 minutes).
     */
    public Builder progressNotifyInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("progress notify interval must be positive");
      }
      this.progressNotifyInterval = interval;
      return this;
    }

    /**
     * Etcd's --force-new-cluster: a member that has data starts with it (keeping its member and cluster ids) as
     * the only member of its cluster, to recover from a lost quorum; the others are removed for good. Meant for
     * one start: leave it out afterwards. Ignored on an empty data directory.
     */
    public Builder forceNewCluster(boolean force) {
      this.forceNewCluster = force;
      return this;
    }

    /**
     * Etcd's --pre-vote (default true, as etcd 3.5's; etcd 3.4's is false): a follower whose leader went silent
     * first asks the others whether it could win, without raising the term, and those that still hear from a
     * leader say no; a member coming back from a partition then does not depose a working leader. Off, an
     * election is one round shorter.
     */
    public Builder preVote(boolean preVote) {
      this.preVote = preVote;
      return this;
    }

    /**
     * Etcd's --experimental-initial-corrupt-check (default off): before a member that has data serves, its
     * HashKV is compared with the other members' at its revision; on a mismatch it refuses to start
     * ({@code <member id> found data inconsistency with peers}).
     */
    public Builder initialCorruptCheck(boolean check) {
      this.initialCorruptCheck = check;
      return this;
    }

    /**
     * Etcd's --experimental-corrupt-check-time (default 0: off): how often the leader compares its HashKV with
     * every member's and raises the CORRUPT alarm on a mismatch.
     */
    public Builder corruptCheckTime(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException("corrupt check time must not be negative");
      }
      this.corruptCheckTime = interval;
      return this;
    }

    /** How often revision-mode compaction checks (etcd: 5 minutes); for tests. */
    Builder revisionCompactionInterval(Duration interval) {
      this.revisionCompactionInterval = interval;
      return this;
    }

    /**
     * Opens the data directory and starts serving. A failed start leaves nothing open (no listener, no thread,
     * no lock on the data directory).
     *
     * @throws IOException with a one-line message naming what failed, e.g. {@code cannot listen on
     *     127.0.0.1:2379: address already in use} (then nothing was created on disk), a data directory that
     *     cannot be created, or one in use by another server
     */
    public DkvServer start() throws IOException {
      clusterConfig(); // the flags' errors before anything starts
      return new DkvServer(this);
    }
  }
}
