package io.dkv.client;

import java.nio.charset.StandardCharsets;

import javax.net.ssl.SSLException;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client for the coordination primitives over any etcd-v3 server (dkv-server or etcd): typed values with
 * their revisions, watches with race-free snapshots that resume by themselves, counters, leases, locks with
 * fencing, leader elections and presence. Thread-safe; one per application is enough. Close it when done.
 *
 * <pre>{@code
 * try (DkvClient client = DkvClient.connect("http://127.0.0.1:2379")) {
 *   client.put("order:1", new Order("o1", 3));
 *   Order o = client.get("order:1", Order.class).orElseThrow().value();
 * }
 * }</pre>
 *
 * <p>Blocking methods wait at most the {@linkplain Builder#requestTimeout request timeout} and throw
 * {@link DkvException} on failure; the {@code ...Async} methods return a {@link CompletableFuture}.
 */
public final class DkvClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DkvClient.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  /** jetcd's retry of a read that failed for want of a server: 100 ms, then 200 ms. */
  private static final Duration RETRY_DELAY = Duration.ofMillis(100);
  private static final Duration RETRY_MAX_DELAY = Duration.ofSeconds(1);

  private final Client jetcd;
  private final Endpoints endpoints;
  private final Duration requestTimeout;
  private final ScheduledExecutorService scheduler;
  private final Leases leases;
  private final Optional<Reconnector> reconnector;
  private final java.util.concurrent.ExecutorService callbacks;

  private DkvClient(Client jetcd, Endpoints endpoints, Duration requestTimeout) {
    this.jetcd = jetcd;
    this.endpoints = endpoints;
    this.requestTimeout = requestTimeout;
    this.scheduler = Executors.newScheduledThreadPool(1, r -> {
      Thread t = new Thread(r, "dkv-client-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.callbacks = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "dkv-client-callback-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.leases = new Leases(this);
    this.reconnector = Reconnector.start(jetcd, scheduler, endpoints);
  }

  /**
   * Connects to the given endpoints with the default options: {@code host:port} or {@code http://host:port}
   * (plain text), {@code https://host:port} (TLS, trusting the JVM's default trust store); give every member of a
   * cluster, and the client fails over between them (see {@link Builder#endpoints}).
   *
   * @throws IllegalArgumentException if an endpoint is not of these forms (the message names it)
   */
  public static DkvClient connect(String... endpoints) {
    return builder().endpoints(endpoints).build();
  }

  /** A builder for a client with options. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Options of a {@link DkvClient}.
   *
   * <pre>{@code
   * DkvClient client = DkvClient.builder()
   *     .endpoints("http://10.0.0.1:2379", "http://10.0.0.2:2379")
   *     .connectTimeout(Duration.ofSeconds(3))
   *     .requestTimeout(Duration.ofSeconds(10))
   *     .build();
   * }</pre>
   *
   * <p>For an etcd cluster with TLS and authentication ({@code dkv-server} itself serves plain text for now):
   *
   * <pre>{@code
   * DkvClient client = DkvClient.builder()
   *     .endpoints("https://etcd-1:2379")
   *     .trustedCertificates(Path.of("ca.crt"))
   *     .clientCertificate(Path.of("client.crt"), Path.of("client.key")) // if the servers ask for one
   *     .credentials("app", "secret")
   *     .build();
   * }</pre>
   */
  public static final class Builder {
    private final List<String> endpoints = new ArrayList<>();
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Path trustedCertificates;
    private Path clientCertificate;
    private Path clientKey;
    private String authority;
    private String user;
    private String password;

    private Builder() {
    }

    /**
     * The servers' client URLs; requests go to any of them. Each is {@code host:port}, {@code http://host:port}
     * or {@code https://host:port} (an IPv6 host in brackets: {@code [::1]:2379}). {@code https://} means TLS,
     * trusting {@link #trustedCertificates} if given and the JVM's default trust store otherwise: it never
     * falls back to plain text. A bare {@code host:port} is TLS when TLS options are given, plain text otherwise
     * (as with etcdctl). {@link #build()} refuses, naming the endpoint, an unknown scheme, a missing port, a
     * path, {@code http://} together with TLS options, and endpoints that disagree on TLS.
     *
     * <p>Give every member of a cluster: requests and streams are spread over the members that answer, and move
     * to the others when one goes away. A member that dies is left at once: reads in flight are retried on
     * another member, watches resume from their last revision elsewhere. A member that stops answering with its
     * connections open (paused, hung, cut off) gets no new request within about 2.5 s (every member is asked for
     * its status each second), reads waiting on it go to another member after 3 s, watches after about 5 s of
     * silence, lease keep-alives after at most 2 s, and writes waiting on it fail after gRPC's keep-alive gives
     * up (12 s; a failed write may have been applied, so it is not retried). Watches and keep-alives carry
     * etcd's require-leader metadata, so a member that lost its leader ends them and they move on. Each change is
     * logged once (WARN when a member or a watch is lost, INFO when it is back), naming the member; see the
     * guide, docs/client.md, for the measured times.
     */
    public Builder endpoints(String... endpoints) {
      for (String e : endpoints) {
        this.endpoints.add(Objects.requireNonNull(e, "endpoint"));
      }
      return this;
    }

    /**
     * How long establishing a connection may take (default 5 s). A request made while no server can be reached
     * fails once the connection attempt under way has failed: within this timeout (plus about a second of
     * retries for reads), not after the request timeout.
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    /**
     * How long a blocking request waits for the answer of a server it reached (default 30 s): the bound for a
     * server that is up but slow.
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "requestTimeout");
      return this;
    }

    /**
     * Talks TLS, trusting the CA certificates in this PEM file (the endpoints are {@code https://} or bare
     * {@code host:port}; {@code http://} endpoints are refused with it).
     */
    public Builder trustedCertificates(Path caPem) {
      this.trustedCertificates = Objects.requireNonNull(caPem, "caPem");
      return this;
    }

    /** The certificate and PKCS#8 key (PEM) presented to servers that require client certificates. */
    public Builder clientCertificate(Path certificatePem, Path keyPem) {
      this.clientCertificate = Objects.requireNonNull(certificatePem, "certificatePem");
      this.clientKey = Objects.requireNonNull(keyPem, "keyPem");
      return this;
    }

    /** The name the servers' certificates are checked against, when it differs from the endpoints' hosts. */
    public Builder authority(String authority) {
      this.authority = Objects.requireNonNull(authority, "authority");
      return this;
    }

    /** Authenticates as {@code user} on servers with authentication enabled (etcd's user/password). */
    public Builder credentials(String user, String password) {
      this.user = Objects.requireNonNull(user, "user");
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /**
     * Connects (lazily: the first request establishes the connection).
     *
     * @throws IllegalArgumentException if there are no endpoints, an endpoint is not accepted (see
     *     {@link #endpoints}; the message names it), or the certificates cannot be read
     */
    public DkvClient build() {
      Endpoints parsed = Endpoints.parse(endpoints, trustedCertificates != null || clientCertificate != null);
      ClientBuilder b = Client.builder().target(parsed.target()).connectTimeout(connectTimeout)
          .interceptor(new CallPolicy(parsed))
          // a read that found no server tries twice more, soon: enough for a cluster whose member went away
          // (the next attempt goes to another member), not long enough to hide an outage
          .retryDelay(RETRY_DELAY.toMillis()).retryMaxDelay(RETRY_MAX_DELAY.toMillis()).retryMaxAttempts(2)
          .retryMaxDuration(requestTimeout)
          .keepaliveTime(CallPolicy.KEEPALIVE_TIME).keepaliveTimeout(CallPolicy.KEEPALIVE_TIMEOUT)
          // no pings on an idle connection: etcd answers those with "too many pings" and closes the connection
          .keepaliveWithoutCalls(false);
      if (FailoverBalancer.register()) {
        b.loadBalancerPolicy(FailoverBalancer.POLICY); // round_robin, minus members that stopped answering
      }
      if (parsed.tls()) {
        try {
          b.sslContext(ssl -> {
            if (trustedCertificates != null) {
              ssl.trustManager(trustedCertificates.toFile());
            }
            if (clientCertificate != null) {
              ssl.keyManager(clientCertificate.toFile(), clientKey.toFile());
            }
          });
        } catch (SSLException | RuntimeException e) {
          throw new IllegalArgumentException("invalid TLS certificates: " + e.getMessage(), e);
        }
      }
      if (authority != null) {
        b.authority(authority);
      }
      if (user != null) {
        b.user(ByteSequence.from(user, StandardCharsets.UTF_8)).password(ByteSequence.from(password, StandardCharsets.UTF_8));
      }
      return new DkvClient(b.build(), parsed, requestTimeout);
    }

    private static Duration positive(Duration d, String name) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + d);
      }
      return d;
    }
  }

  // ---------------------------------------------------------------- typed key-values

  /** The string value of {@code key}, if it exists. */
  public Optional<Versioned<String>> get(String key) {
    return get(key, Codec.string());
  }

  /** The value of {@code key} decoded as {@code type} (see {@link Codec#of}), if it exists. */
  public <T> Optional<Versioned<T>> get(String key, Class<T> type) {
    return get(key, Codec.of(type));
  }

  /** The value of {@code key} decoded by {@code codec}, if it exists. */
  public <T> Optional<Versioned<T>> get(String key, Codec<T> codec) {
    return await(getAsync(key, codec));
  }

  /** Asynchronously, the value of {@code key} decoded by {@code codec}, if it exists. */
  public <T> CompletableFuture<Optional<Versioned<T>>> getAsync(String key, Codec<T> codec) {
    return jetcd.getKVClient().get(Keys.bytes(key)).thenApply(r -> r.getKvs().isEmpty()
        ? Optional.empty() : Optional.of(Versioned.of(r.getKvs().get(0), codec)));
  }

  /** Every key under {@code prefix}, in key order, decoded by {@code codec}. */
  public <T> List<Versioned<T>> list(String prefix, Codec<T> codec) {
    return await(jetcd.getKVClient().get(Keys.bytes(prefix), GetOption.builder().isPrefix(true).build())
        .thenApply(r -> {
          List<Versioned<T>> out = new ArrayList<>(r.getKvs().size());
          for (KeyValue kv : r.getKvs()) {
            out.add(Versioned.of(kv, codec));
          }
          return out;
        }));
  }

  /**
   * Stores {@code value} under {@code key}, encoded by {@link Codec#of} its class (a String as UTF-8, an
   * object as JSON); returns the revision of the write.
   */
  @SuppressWarnings("unchecked")
  public <T> long put(String key, T value) {
    Objects.requireNonNull(value, "value");
    return put(key, value, (Codec<T>) Codec.of(value.getClass()));
  }

  /** Stores {@code value} under {@code key}, encoded by {@code codec}; returns the revision of the write. */
  public <T> long put(String key, T value, Codec<T> codec) {
    return await(putAsync(key, value, codec));
  }

  /** Asynchronously stores {@code value} under {@code key}; completes with the revision of the write. */
  public <T> CompletableFuture<Long> putAsync(String key, T value, Codec<T> codec) {
    return jetcd.getKVClient().put(Keys.bytes(key), Keys.bytes(codec.encode(value)))
        .thenApply(r -> r.getHeader().getRevision());
  }

  /** Deletes {@code key}; returns whether it existed. */
  public boolean delete(String key) {
    return await(jetcd.getKVClient().delete(Keys.bytes(key), DeleteOption.DEFAULT)
        .thenApply(r -> r.getDeleted() > 0));
  }

  // ---------------------------------------------------------------- primitives

  /**
   * Watches one key: {@code handler} receives every change from now on (or, with
   * {@link WatchOptions#initialSnapshot()}, the current value and then every change after it).
   */
  public <T> Subscription watchKey(String key, Codec<T> codec, WatchOptions options, WatchHandler<T> handler) {
    return Watcher.start(this, key, false, codec, options, handler);
  }

  /** Watches every key under {@code prefix}; see {@link #watchKey}. */
  public <T> Subscription watchPrefix(String prefix, Codec<T> codec, WatchOptions options,
      WatchHandler<T> handler) {
    return Watcher.start(this, prefix, true, codec, options, handler);
  }

  /** An atomic counter stored under {@code key} (as a decimal string; absent means 0). */
  public Counter counter(String key) {
    return new Counter(this, key);
  }

  /** Leases: grant with background keep-alive, revoke. */
  public Leases leases() {
    return leases;
  }

  /** The distributed lock named {@code name}, held by sessions with the given lease TTL. */
  public DistributedLock lock(String name, Duration ttl) {
    return new DistributedLock(this, name, ttl);
  }

  /** The leader election named {@code name}, whose candidates hold leases with the given TTL. */
  public Election election(String name, Duration ttl) {
    return new Election(this, name, ttl);
  }

  /** Membership under {@code prefix} (members are {@code prefix + memberId}). */
  public Presence presence(String prefix) {
    return new Presence(this, prefix);
  }

  /** The jetcd client underneath, for what this API does not cover. Do not close it. */
  public Client jetcd() {
    return jetcd;
  }

  // ---------------------------------------------------------------- internals

  Duration requestTimeout() {
    return requestTimeout;
  }

  /** Where watch handlers run (each subscription serially). */
  java.util.concurrent.Executor callbacks() {
    return callbacks;
  }

  Endpoints endpoints() {
    return endpoints;
  }

  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  /** What finds a returning server within half a second (empty if jetcd's channel could not be reached). */
  Optional<Reconnector> reconnector() {
    return reconnector;
  }

  /** Whether some member is connected now (true if that cannot be known). */
  boolean connected() {
    return reconnector.map(Reconnector::connected).orElse(true);
  }

  static ByteSequence key(String key) {
    return Keys.bytes(key);
  }

  /**
   * Waits for {@code f} up to the request timeout; failures become {@link DkvException}s whose message names the
   * endpoints when the failure was the connection's.
   */
  <R> R await(CompletableFuture<R> f) {
    return await(f, requestTimeout, endpoints);
  }

  static <R> R await(CompletableFuture<R> f, Duration timeout) {
    return await(f, timeout, null);
  }

  private static <R> R await(CompletableFuture<R> f, Duration timeout, Endpoints endpoints) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new DkvException("interrupted", e);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new DkvException("no answer" + (endpoints == null ? "" : " from " + endpoints) + " within "
          + humanized(timeout), e);
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
    } catch (CancellationException e) {
      throw new DkvException("cancelled", e);
    }
  }

  private static String humanized(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  /**
   * The failure as a {@link DkvException}, its message the cause's (for a connection failure, jetcd's message
   * is already {@code cannot reach <endpoints>: <cause>}, see {@link CallPolicy}).
   */
  static RuntimeException unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof DkvException d) {
      return d;
    }
    return new DkvException(String.valueOf(t.getMessage()), t);
  }

  /** Closes the connection. */
  @Override
  public void close() {
    leases.close();
    scheduler.shutdownNow();
    jetcd.close();
    callbacks.shutdown();
    log.debug("dkv client closed");
  }
}
