package io.dkv.controller;

import io.dkv.client.DkvException;
import io.dkv.client.FencingToken;
import io.dkv.informer.SharedIndexInformer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs informers and controllers together: starts the informers, waits until they have synced, then starts the
 * controllers; with a {@link LeaderElector}, only while this process leads. Serves {@code /healthz},
 * {@code /readyz} and {@code /metrics} (Prometheus text) over HTTP when given an address. {@link #close()} shuts
 * down gracefully: controllers finish the reconciles in progress, then leadership is resigned and informers stop.
 *
 * <pre>{@code
 * Manager manager = Manager.builder()
 *     .leaderElector(LeaderElector.builder(client, "leader/jobs").build())
 *     .httpAddress(new InetSocketAddress("0.0.0.0", 8081))
 *     .build();
 * Controller jobs = Controller.builder("jobs").meterRegistry(manager.meterRegistry())
 *     .forResource(jobInformer)
 *     .build(reconciler);
 * manager.add(jobs);          // and its informers
 * manager.start();            // returns once the informers have synced
 * manager.stopped().join();   // fails with LeadershipLostException if leadership is lost
 * }</pre>
 *
 * <p>Losing leadership stops every controller at once (no new reconcile starts; those in progress are
 * interrupted) and completes {@link #stopped()} exceptionally with a {@link LeadershipLostException};
 * {@code /healthz} then reports failure. As with controller-runtime, a manager does not campaign again: exit and
 * restart. A manager starts once.
 */
public final class Manager implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Manager.class);

  private final MeterRegistry registry;
  private final LeaderElector elector;
  private final InetSocketAddress httpAddress;
  private final Duration syncTimeout;
  private final Duration shutdownTimeout;
  private final Set<SharedIndexInformer<?>> informers = new LinkedHashSet<>();
  private final List<Controller> controllers = new ArrayList<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();

  private HealthServer http;
  private boolean started;
  private volatile boolean synced;
  private volatile boolean controllersRunning;
  private volatile boolean failed;
  private volatile boolean closed;

  private Manager(Builder b) {
    this.registry = b.registry != null ? b.registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.elector = b.elector;
    this.httpAddress = b.httpAddress;
    this.syncTimeout = b.syncTimeout;
    this.shutdownTimeout = b.shutdownTimeout;
  }

  /** A builder of a manager. */
  public static Builder builder() {
    return new Builder();
  }

  /** The registry the manager's metrics endpoint serves; give it to controllers and informers. */
  public MeterRegistry meterRegistry() {
    return registry;
  }

  /** Adds an informer to start, wait for and stop. */
  public synchronized Manager add(SharedIndexInformer<?> informer) {
    Objects.requireNonNull(informer, "informer");
    requireNotStarted();
    informers.add(informer);
    return this;
  }

  /** Adds a controller, and the informers it watches. */
  public synchronized Manager add(Controller controller) {
    Objects.requireNonNull(controller, "controller");
    requireNotStarted();
    controllers.add(controller);
    if (controller instanceof DefaultController d) {
      informers.addAll(d.informers());
    }
    return this;
  }

  private void requireNotStarted() {
    if (started) {
      throw new IllegalStateException("add informers and controllers before the manager starts");
    }
  }

  /**
   * Starts the HTTP endpoints and the informers, waits until every informer has synced, then starts the
   * controllers (with leader election: starts campaigning; controllers start once this process leads).
   *
   * <p>While it waits, an informer that cannot reach its source is logged once, at WARN, with its error.
   *
   * @throws IllegalStateException if the informers did not sync within the sync timeout (naming each that did
   *     not, with its {@linkplain SharedIndexInformer#lastError() last error}), or an informer stopped with an
   *     error; the manager is then failed and should be closed
   */
  public void start() {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the manager was closed");
      }
      if (started) {
        return;
      }
      started = true;
      if (httpAddress != null) {
        http = new HealthServer(httpAddress, this::isHealthy, this::isReady, registry);
      }
    }
    informers.forEach(SharedIndexInformer::start);
    awaitSync();
    synced = true;
    log.info("{} informers synced", informers.size());
    if (elector == null) {
      startControllers();
    } else {
      elector.start(new LeaderElector.Callbacks() {
        @Override
        public void startedLeading(FencingToken token) {
          startControllers();
        }

        @Override
        public void stoppedLeading(String reason) {
          leadershipLost(reason);
        }
      });
    }
  }

  private void awaitSync() {
    long deadline = System.nanoTime() + syncTimeout.toNanos();
    Set<SharedIndexInformer<?>> warned = new HashSet<>();
    while (true) {
      List<SharedIndexInformer<?>> pending = informers.stream().filter(i -> !i.hasSynced()).toList();
      if (pending.isEmpty()) {
        return;
      }
      for (SharedIndexInformer<?> i : pending) {
        CompletableFuture<Void> s = i.stopped();
        if (s.isCompletedExceptionally()) {
          failed = true;
          Throwable cause = s.handle((v, e) -> e).join();
          throw new IllegalStateException("informer " + i + " stopped before it synced: " + cause, cause);
        }
        Optional<Throwable> error = i.lastError();
        if (error.isPresent() && warned.add(i)) {
          log.warn("waiting for {} to sync, but it cannot reach its source: {}; controllers start once it has"
              + " synced (sync timeout {})", i, DkvException.describe(error.get()), syncTimeout);
        }
      }
      if (closed) {
        throw new IllegalStateException("the manager was closed while waiting for its informers to sync");
      }
      if (System.nanoTime() - deadline > 0) {
        failed = true;
        IllegalStateException e = new IllegalStateException("informers not synced within " + syncTimeout + ": "
            + pending.stream().map(Manager::syncState).collect(Collectors.joining(", ")), new TimeoutException());
        pending.forEach(i -> i.lastError().ifPresent(e::addSuppressed));
        throw e;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the informers to sync");
      }
    }
  }

  /** {@code informer etcd:in/ (last error: ...)}, or {@code (no error yet)}. */
  private static String syncState(SharedIndexInformer<?> i) {
    return i + " (" + i.lastError().map(e -> "last error: " + DkvException.describe(e)).orElse("no error yet")
        + ")";
  }

  private synchronized void startControllers() {
    if (closed || failed) {
      return;
    }
    controllers.forEach(Controller::start);
    controllersRunning = true;
    log.info("{} controllers started", controllers.size());
  }

  private void leadershipLost(String reason) {
    List<Controller> running;
    synchronized (this) {
      failed = true;
      controllersRunning = false;
      running = List.copyOf(controllers);
    }
    running.forEach(Controller::stopNow);
    log.error("leadership lost, controllers stopped: {}", reason);
    stopped.completeExceptionally(new LeadershipLostException(reason));
  }

  /** Completes when the manager is closed, or exceptionally when it loses its leadership. */
  public CompletableFuture<Void> stopped() {
    return stopped;
  }

  /** Whether the controllers run (with leader election: whether this process leads). */
  public boolean isLeader() {
    return controllersRunning;
  }

  /** The fencing token of this process's leadership, while it leads an election. */
  public Optional<FencingToken> fencingToken() {
    return elector == null ? Optional.empty() : elector.fencingToken();
  }

  /** What {@code /healthz} reports: started, neither failed nor closed. */
  public boolean isHealthy() {
    return started && !failed && !closed;
  }

  /** What {@code /readyz} reports: healthy and every informer synced. */
  public boolean isReady() {
    return isHealthy() && synced && informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  /** The port of the HTTP endpoints (useful with port 0). */
  public int httpPort() {
    HealthServer h = http;
    if (h == null) {
      throw new IllegalStateException("the manager serves no HTTP endpoints (no httpAddress, or not started)");
    }
    return h.port();
  }

  /**
   * Shuts down gracefully: stops the controllers, letting reconciles in progress finish (up to the shutdown
   * timeout, then they are interrupted), resigns leadership, stops the informers and the HTTP endpoints.
   */
  @Override
  public void close() {
    List<Controller> toStop;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      controllersRunning = false;
      toStop = List.copyOf(controllers);
    }
    drain(toStop);
    if (elector != null) {
      elector.close();
    }
    for (SharedIndexInformer<?> i : informers) {
      try {
        i.close();
      } catch (RuntimeException e) {
        log.warn("closing informer {} failed", i, e);
      }
    }
    if (http != null) {
      http.close();
    }
    stopped.complete(null);
    log.info("manager stopped");
  }

  private void drain(List<Controller> toStop) {
    List<CompletableFuture<Void>> stops = new ArrayList<>();
    for (Controller c : toStop) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      Thread t = new Thread(() -> {
        try {
          c.stop();
          f.complete(null);
        } catch (InterruptedException e) {
          f.completeExceptionally(e);
        }
      }, "manager-stop-" + c.name());
      t.setDaemon(true);
      t.start();
      stops.add(f);
    }
    try {
      CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
          .get(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn("reconciles still running after {}; interrupting them", shutdownTimeout);
      toStop.forEach(Controller::stopNow);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      toStop.forEach(Controller::stopNow);
    } catch (java.util.concurrent.ExecutionException e) {
      log.warn("stopping a controller failed", e.getCause());
    }
  }

  /** Options of a {@link Manager}. */
  public static final class Builder {
    private MeterRegistry registry;
    private LeaderElector elector;
    private InetSocketAddress httpAddress;
    private Duration syncTimeout = Duration.ofMinutes(2);
    private Duration shutdownTimeout = Duration.ofSeconds(30);

    private Builder() {}

    /**
     * Where metrics go (default a new {@link PrometheusMeterRegistry}); {@code /metrics} serves it when it is a
     * Prometheus registry.
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Runs the controllers only while this elector leads (default: no election, always run). */
    public Builder leaderElector(LeaderElector elector) {
      this.elector = Objects.requireNonNull(elector, "elector");
      return this;
    }

    /** Serves /healthz, /readyz and /metrics on this address (default: no HTTP); port 0 picks a free one. */
    public Builder httpAddress(InetSocketAddress address) {
      this.httpAddress = Objects.requireNonNull(address, "address");
      return this;
    }

    /** How long {@link Manager#start()} waits for the informers to sync (default 2 minutes). */
    public Builder syncTimeout(Duration timeout) {
      this.syncTimeout = positive(timeout, "syncTimeout");
      return this;
    }

    /** How long {@link Manager#close()} lets reconciles in progress finish (default 30 s). */
    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout = positive(timeout, "shutdownTimeout");
      return this;
    }

    /** A new manager, not started. */
    public Manager build() {
      return new Manager(this);
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }
  }
}
