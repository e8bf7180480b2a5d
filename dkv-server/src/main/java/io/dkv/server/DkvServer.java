package io.dkv.server;

import io.dkv.server.api.ClusterService;
import io.dkv.server.api.Headers;
import io.dkv.server.api.KvService;
import io.dkv.server.api.LeaseService;
import io.dkv.server.api.LockService;
import io.dkv.server.api.ElectionService;
import io.dkv.server.api.WatchService;
import io.dkv.server.concurrency.Elections;
import io.dkv.server.concurrency.CommitFeed;
import io.dkv.server.concurrency.Locks;
import io.dkv.server.api.MaintenanceService;
import io.dkv.server.api.MessageSizeLimit;
import io.dkv.server.lease.Lessor;
import io.dkv.server.apply.LocalProposer;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.dkv.server.watch.WatchHub;
import io.etcd.jetcd.api.Member;
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
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.rocksdb.WriteBatch;
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

  /** How the server compacts history by itself, as etcd's --auto-compaction-mode. */
  public enum CompactionMode { PERIODIC, REVISION }

  private final Closer closer = new Closer();
  private final Server grpc;
  private final String endpoint;
  private final MetricsEndpoint metrics;
  private volatile boolean closing;
  private volatile Member self;

  /**
   * Starts in an order that fails early and unwinds completely: the listen addresses are checked (the metrics
   * listener bound) first, so a busy port fails before anything is created on disk; every resource then
   * registers on {@link #closer} as it is made, so a failure at any step, or {@link #close()}, closes in
   * reverse order everything made before.
   */
  private DkvServer(Builder b) throws IOException {
    try {
      checkCanListen(b.host, b.port);
      GrpcMetrics grpcMetrics = b.metricsHost == null ? null : new GrpcMetrics();
      metrics = grpcMetrics == null ? null : closer.register(bindMetrics(b, grpcMetrics));

      Backend backend = closer.register(Backend.open(b.dataDir));
      MvccStore store = MvccStore.open(backend);
      Headers headers = new Headers(id(backend, "clusterId"), id(backend, "memberId"), 1);
      CommitFeed feed = closer.register(new CommitFeed());
      WatchHub hub = closer.register(new WatchHub(store, headers::at,
          b.maxRequestBytes + MessageSizeLimit.GRPC_OVERHEAD_BYTES, b.progressNotifyInterval));
      Lessor leases = Lessor.open(backend, store);
      LocalProposer proposer = closer.register(new LocalProposer(store, leases, events -> {
        hub.publish(events);
        feed.publish(events);
      }));
      closer.register(leases).start(proposer);
      if (b.compactionMode != null) {
        closer.register(autoCompactor(b, store, proposer));
      }
      ExecutorService maintenance = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dkv-maintenance");
        t.setDaemon(true);
        return t;
      });
      closer.register(() -> awaitShutdown(maintenance)); // a defragment in progress, before the store closes

      List<ServerServiceDefinition> services = List.of(
          new KvService(store, proposer, headers, leases, b.maxRequestBytes, b.maxTxnOps).bindService(),
          new MaintenanceService(store, backend, headers, maintenance).bindService(),
          new ClusterService(headers, () -> self).bindService(),
          new WatchService(hub).bindService(),
          new LeaseService(leases, proposer, store, headers).withLeaseLeases(),
          new LockService(new Locks(proposer, leases, store, feed), headers).bindService(),
          new ElectionService(new Elections(proposer, leases, store, feed), headers).bindService());
      grpc = serveGrpc(b, services.stream().map(s -> intercept(s, b.maxRequestBytes, grpcMetrics)).toList());
      closer.register(this::stopServing);
      closer.register(hub); // again: stopping ends the watch streams first, so that gRPC can drain
      endpoint = "http://" + b.host + ":" + grpc.getPort();
      self = Member.newBuilder().setID(headers.memberId()).setName(b.name)
          .addAllPeerURLs(b.peerUrls)
          .addAllClientURLs(b.advertiseClientUrls.isEmpty() ? List.of(endpoint) : b.advertiseClientUrls)
          .build();
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
      return MetricsEndpoint.bind(b.metricsHost, b.metricsPort, grpcMetrics, () -> !closing);
    } catch (IOException e) {
      throw listenFailure(b.metricsHost, b.metricsPort, e);
    }
  }

  private static Server serveGrpc(Builder b, List<ServerServiceDefinition> services) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(b.host, b.port))
        .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE,
            4 * (b.maxRequestBytes + MessageSizeLimit.GRPC_OVERHEAD_BYTES)))
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

  private static ServerServiceDefinition intercept(ServerServiceDefinition service, long maxRequestBytes,
      GrpcMetrics grpcMetrics) {
    if (grpcMetrics == null) {
      return ServerInterceptors.intercept(service, new MessageSizeLimit(maxRequestBytes));
    }
    grpcMetrics.register(service);
    return ServerInterceptors.intercept(service, new MessageSizeLimit(maxRequestBytes), grpcMetrics);
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
        .gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", () -> 1)
        .gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.", store::currentRevision)
        .gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
            () -> Math.max(0, store.compactRevision()))
        .gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
            backend::size);
  }

  private static AutoCompactor autoCompactor(Builder b, MvccStore store, LocalProposer p) {
    return switch (b.compactionMode) {
      case PERIODIC -> AutoCompactor.periodic(store, p, AutoCompactor.parsePeriod(b.compactionRetention));
      case REVISION -> AutoCompactor.byRevision(store, p, Long.parseLong(b.compactionRetention),
          b.revisionCompactionInterval);
    };
  }

  private static long id(Backend backend, String name) {
    long id = backend.getMeta(name, 0);
    if (id == 0) {
      id = new SecureRandom().nextLong() & Long.MAX_VALUE;
      try (WriteBatch wb = new WriteBatch()) {
        backend.putMeta(wb, name, id);
        backend.write(wb, true);
      }
    }
    return id;
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
    private long maxRequestBytes = 1536 * 1024;
    private int maxTxnOps = 128;
    private CompactionMode compactionMode;
    private String compactionRetention = "0";
    private Duration revisionCompactionInterval = Duration.ofMinutes(5);
    private Duration progressNotifyInterval = Duration.ofMinutes(10);
    private String metricsHost;
    private int metricsPort;

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

    /** The peer URLs the member advertises in the member list. */
    public Builder peerUrls(List<String> urls) {
      this.peerUrls = List.copyOf(urls);
      return this;
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
      return new DkvServer(this);
    }
  }
}
