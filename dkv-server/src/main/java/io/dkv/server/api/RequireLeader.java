package io.dkv.server.api;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.dkv.server.mvcc.EtcdError;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Etcd's require-leader metadata ({@code hasleader: true}, clientv3's {@code WithRequireLeader}), as etcd's
 * v3rpc interceptors handle it: a call that carries it fails at once with {@code etcdserver: no leader}
 * (UNAVAILABLE) while this member knows no leader; a watch stream opened with it is ended with that error once
 * the member has known no leader for three election timeouts in a row (etcd's {@code monitorLeader}, checked
 * every election timeout).
 */
public final class RequireLeader implements ServerInterceptor, AutoCloseable {

  /** Etcd's rpctypes.MetadataRequireLeaderKey and MetadataHasLeader. */
  static final Metadata.Key<String> KEY = Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);
  static final String HAS_LEADER = "true";
  /** Etcd's maxNoLeaderCnt. */
  static final int MAX_NO_LEADER_CHECKS = 3;

  /** Set in the context of a streaming call that requires a leader: where the stream registers its end. */
  static final Context.Key<RequireLeader> STREAM = Context.key("dkv-require-leader");

  private final LongSupplier leaderId;
  private final Duration electionTimeout;
  private final List<Runnable> streams = new ArrayList<>();
  private ScheduledExecutorService monitor;
  private ScheduledFuture<?> checks;
  private int noLeaderChecks;
  private boolean closed;

  /** @param leaderId the leader's member id as this member knows it, 0 if none */
  public RequireLeader(LongSupplier leaderId, Duration electionTimeout) {
    this.leaderId = leaderId;
    this.electionTimeout = electionTimeout;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    if (!HAS_LEADER.equals(headers.get(KEY))) {
      return next.startCall(call, headers);
    }
    if (leaderId.getAsLong() == 0) {
      call.close(ErrorStatus.of(EtcdError.NO_LEADER), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    if (call.getMethodDescriptor().getType() == MethodType.UNARY) {
      return next.startCall(call, headers);
    }
    return Contexts.interceptCall(Context.current().withValue(STREAM, this), call, headers, next);
  }

  /**
   * Runs {@code end} (once) when this member has known no leader for three election timeouts in a row, unless
   * the returned handle is run first (the stream ended by itself).
   */
  synchronized Runnable onLeaderLost(Runnable end) {
    if (closed) {
      return () -> { };
    }
    streams.add(end);
    if (checks == null) {
      if (monitor == null) {
        monitor = Executors.newSingleThreadScheduledExecutor(
            new ThreadFactoryBuilder().setNameFormat("dkv-require-leader").setDaemon(true).build());
      }
      noLeaderChecks = 0;
      long period = electionTimeout.toMillis();
      checks = monitor.scheduleWithFixedDelay(this::check, period, period, TimeUnit.MILLISECONDS);
    }
    return () -> forget(end);
  }

  private synchronized void forget(Runnable end) {
    streams.remove(end);
    if (streams.isEmpty() && checks != null) {
      checks.cancel(false);
      checks = null;
    }
  }

  private void check() {
    List<Runnable> ended;
    synchronized (this) {
      noLeaderChecks = leaderId.getAsLong() == 0 ? noLeaderChecks + 1 : 0;
      if (noLeaderChecks < MAX_NO_LEADER_CHECKS) {
        return;
      }
      ended = new ArrayList<>(streams);
      streams.clear();
      if (checks != null) {
        checks.cancel(false);
        checks = null;
      }
    }
    ended.forEach(Runnable::run);
  }

  @Override
  public synchronized void close() {
    closed = true;
    streams.clear();
    if (monitor != null) {
      monitor.shutdownNow();
    }
  }
}
