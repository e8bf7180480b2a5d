package io.dkv.server;

import io.dkv.server.raft.MemberRemovedException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** {@code java -jar dkv-server.jar}: runs a server standalone, with etcd's flags, until SIGTERM or SIGINT. */
@Command(name = "dkv-server", mixinStandardHelpOptions = true, sortOptions = false,
    description = "A durable, revisioned key-value server speaking the etcd v3 API.")
public final class Main implements Callable<Integer> {

  /**
   * The exit code of a member removed from its cluster (it stops by itself, or refuses to start on its old data
   * directory): 0, as etcd's, which exits 0 once its server stopped.
   */
  static final int EXIT_REMOVED = 0;
  /** The exit code when the server cannot start (a busy port, an unusable data directory). */
  static final int EXIT_START_FAILED = 1;

  @Spec
  CommandSpec spec;

  @Option(names = "--name", description = "Human-readable name for this member (default: ${DEFAULT-VALUE}).")
  String name = "default";

  @Option(names = "--data-dir", description = "Path to the data directory (default: ${DEFAULT-VALUE}).")
  Path dataDir = Path.of("dkv-data");

  @Option(names = "--listen-client-urls", split = ",",
      description = "URL to listen on for client traffic (default: ${DEFAULT-VALUE}).")
  List<URI> listenClientUrls = List.of(URI.create("http://127.0.0.1:2379"));

  @Option(names = "--advertise-client-urls", split = ",",
      description = "Client URLs to advertise to the rest of the cluster (default: the listen URL).")
  List<String> advertiseClientUrls = List.of();

  @Option(names = "--initial-advertise-peer-urls", split = ",",
      description = "This member's peer URLs to advertise to the rest of the cluster (default: ${DEFAULT-VALUE}).")
  List<String> peerUrls = List.of("http://localhost:2380");

  @Option(names = "--listen-peer-urls", split = ",",
      description = "URL to listen on for peer traffic (default: ${DEFAULT-VALUE}).")
  List<String> listenPeerUrls = List.of("http://localhost:2380");

  @Option(names = "--initial-cluster",
      description = "Initial cluster configuration for bootstrapping, name=peerURL,... (default: <name>=<the first "
          + "--initial-advertise-peer-urls>).")
  String initialCluster;

  @Option(names = "--initial-cluster-state",
      description = "Initial cluster state ('new' or 'existing') (default: ${DEFAULT-VALUE}).")
  String initialClusterState = "new";

  @Option(names = "--initial-cluster-token",
      description = "Initial cluster token for the cluster during bootstrap (default: ${DEFAULT-VALUE}).")
  String initialClusterToken = "etcd-cluster";

  @Option(names = "--election-timeout",
      description = "Time (in milliseconds) for an election to timeout (default: ${DEFAULT-VALUE}).")
  long electionTimeoutMs = 1000;

  @Option(names = "--snapshot-count",
      description = "Number of committed transactions to trigger a snapshot to disk (default: ${DEFAULT-VALUE}).")
  long snapshotCount = 100_000;

  @Option(names = "--heartbeat-interval",
      description = "Time (in milliseconds) of a heartbeat interval (default: ${DEFAULT-VALUE}).")
  long heartbeatIntervalMs = 100;

  @Option(names = "--max-request-bytes",
      description = "Maximum client request size in bytes the server will accept (default: ${DEFAULT-VALUE}).")
  long maxRequestBytes = 1536 * 1024;

  @Option(names = "--max-txn-ops",
      description = "Maximum number of operations permitted in a transaction (default: ${DEFAULT-VALUE}).")
  int maxTxnOps = 128;

  @Option(names = "--auto-compaction-mode",
      description = "Interpret auto-compaction-retention as 'periodic' (a duration) or 'revision' (a count).")
  String autoCompactionMode = "periodic";

  @Option(names = "--auto-compaction-retention",
      description = "Auto compaction retention for the mvcc keyspace; 0 disables it (default: ${DEFAULT-VALUE}).")
  String autoCompactionRetention = "0";

  @Option(names = "--experimental-watch-progress-notify-interval",
      description = "Duration of periodic watch progress notifications, e.g. 10m, 30s (default: ${DEFAULT-VALUE}).")
  String progressNotifyInterval = "10m";

  @Option(names = "--force-new-cluster", arity = "0..1",
      description = "Force to create a new one-member cluster (default: false).")
  boolean forceNewCluster;

  @Option(names = "--pre-vote", arity = "0..1", fallbackValue = "true",
      description = "Enable to run an additional Raft election phase (default: ${DEFAULT-VALUE}).")
  boolean preVote = true;

  @Option(names = "--experimental-initial-corrupt-check", arity = "0..1",
      description = "Enable to check data corruption before serving any client/peer traffic (default: false).")
  boolean initialCorruptCheck;

  @Option(names = "--experimental-corrupt-check-time",
      description = "Duration of time between cluster corruption check passes, e.g. 5m; 0 disables them "
          + "(default: ${DEFAULT-VALUE}).")
  String corruptCheckTime = "0s";

  @Option(names = "--listen-metrics-urls", split = ",",
      description = "URL to serve /metrics and /health on over HTTP (default: none).")
  List<URI> listenMetricsUrls = List.of();

  @Override
  public Integer call() throws Exception {
    if (listenClientUrls.size() != 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "exactly one --listen-client-urls is supported");
    }
    URI url = listenClientUrls.get(0);
    if (!"http".equals(url.getScheme()) || url.getHost() == null || url.getPort() < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--listen-client-urls must be http://host:port (TLS is not supported yet): " + url);
    }
    DkvServer.Builder b;
    try {
      b = DkvServer.builder()
          .name(name)
          .dataDir(dataDir)
          .host(url.getHost())
          .port(url.getPort())
          .advertiseClientUrls(advertiseClientUrls)
          .peerUrls(peerUrls)
          .initialClusterState(initialClusterState)
          .initialClusterToken(initialClusterToken)
          .electionTimeout(java.time.Duration.ofMillis(electionTimeoutMs))
          .heartbeatInterval(java.time.Duration.ofMillis(heartbeatIntervalMs))
          .snapshotCount(snapshotCount)
          .maxRequestBytes(maxRequestBytes)
          .maxTxnOps(maxTxnOps)
          .progressNotifyInterval(AutoCompactor.parsePeriod(progressNotifyInterval))
          .forceNewCluster(forceNewCluster)
          .preVote(preVote)
          .initialCorruptCheck(initialCorruptCheck)
          .corruptCheckTime(AutoCompactor.parseGoDuration("-experimental-corrupt-check-time", corruptCheckTime));
      if (listenPeerUrls.size() != 1) {
        throw new IllegalArgumentException("exactly one --listen-peer-urls is supported");
      }
      b.listenPeerUrl(listenPeerUrls.get(0));
      if (initialCluster != null) {
        b.initialCluster(initialCluster);
      }
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    if (!"0".equals(autoCompactionRetention)) {
      DkvServer.CompactionMode mode = switch (autoCompactionMode) {
        case "periodic" -> DkvServer.CompactionMode.PERIODIC;
        case "revision" -> DkvServer.CompactionMode.REVISION;
        default -> throw new CommandLine.ParameterException(spec.commandLine(),
            "--auto-compaction-mode must be 'periodic' or 'revision': " + autoCompactionMode);
      };
      try {
        b.autoCompaction(mode, autoCompactionRetention);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "invalid --auto-compaction-retention '"
            + autoCompactionRetention + "' for " + autoCompactionMode + " mode", e);
      }
    }
    if (listenMetricsUrls.size() > 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "at most one --listen-metrics-urls is supported");
    }
    for (URI metrics : listenMetricsUrls) {
      if (!"http".equals(metrics.getScheme()) || metrics.getHost() == null || metrics.getPort() < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--listen-metrics-urls must be http://host:port: " + metrics);
      }
      b.metrics(metrics.getHost(), metrics.getPort());
    }
    DkvServer server;
    try {
      server = b.start();
    } catch (MemberRemovedException e) {
      spec.commandLine().getErr().println(spec.name() + ": " + e.getMessage());
      return EXIT_REMOVED;
    } catch (IOException e) {
      // what a user meets (a busy port, an unusable or locked data directory), named in one line
      return startFailed(e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      return startFailed(e.getMessage(), e); // flags that disagree (e.g. --initial-cluster without --name)
    } catch (RuntimeException e) {
      // anything else (e.g. a corrupt record in the data directory), in one line as well
      return startFailed("cannot start: " + e, e);
    }
    // SIGTERM and SIGINT stop the server here, so the process exits 0 after a clean shutdown; left to the
    // JVM, they would run the shutdown hook and exit 143 (130), whatever call() returns.
    CountDownLatch stop = new CountDownLatch(1);
    for (String name : List.of("TERM", "INT")) {
      try {
        Signal.handle(new Signal(name), s -> stop.countDown());
      } catch (IllegalArgumentException unavailable) {
        // e.g. under -Xrs: the shutdown hook below still closes the server
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "dkv-shutdown")); // any other way out
    server.removedFromCluster().thenRun(stop::countDown); // the server closed itself: removed
    stop.await();
    server.close(); // idempotent: the shutdown hook's close then returns at once
    if (server.removedFromCluster().isDone()) {
      spec.commandLine().getErr().println(spec.name() + ": " + MemberRemovedException.MESSAGE + "; "
          + MemberRemovedException.ADVICE);
      return EXIT_REMOVED;
    }
    return 0;
  }

  /** Prints why the server could not start, in one line (the stack trace goes to the log at DEBUG). */
  private int startFailed(String message, Exception e) {
    // the logger is looked up here, not in a static field: main() picks the logging configuration first
    LoggerFactory.getLogger(Main.class).debug("start-up failed", e);
    spec.commandLine().getErr().println(spec.name() + ": " + message);
    return EXIT_START_FAILED;
  }

  public static void main(String[] args) {
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "dkv-logback.xml");
    }
    CommonPool.ensureParallel(); // before anything makes the pool
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger(); // one log, in one format
    org.slf4j.bridge.SLF4JBridgeHandler.install();
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
