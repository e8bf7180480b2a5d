package io.dkv.server.api;

import io.dkv.server.apply.Proposer;
import io.dkv.server.lease.Lessor;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrantResponse;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseRevokeResponse;
import io.etcd.jetcd.api.LeaseTimeToLiveRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveResponse;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import com.google.protobuf.Message;
import java.security.SecureRandom;
import java.util.Random;

/**
 * Etcd's Lease service. Grants and revokes go through the proposer; keep-alives and queries are answered
 * from the {@link Lessor}'s memory, with the header at the last committed revision, as etcd's leader does.
 */
final class LeaseService extends LeaseGrpc.LeaseImplBase {

  private final Lessor lessor;
  private final Proposer proposer;
  private final MvccStore store;
  private final Headers headers;
  private final Random ids = new SecureRandom();

  LeaseService(Lessor lessor, Proposer proposer, MvccStore store, Headers headers) {
    this.lessor = lessor;
    this.proposer = proposer;
    this.store = store;
    this.headers = headers;
  }

  /** This service with etcd's LeaseLeases method, which jetcd's stubs lack. */
  public ServerServiceDefinition withLeaseLeases() {
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(LeaseGrpc.SERVICE_NAME);
    for (ServerMethodDefinition<?, ?> m : bindService().getMethods()) {
      b.addMethod(m);
    }
    b.addMethod(LeaseLeases.METHOD, ServerCalls.asyncUnaryCall((req, obs) -> Calls.answer(obs,
        () -> new LeaseLeases.Response(headers.at(store.committedRevision()), lessor.ids()))));
    return b.build();
  }

  @Override
  public void leaseGrant(LeaseGrantRequest r, StreamObserver<LeaseGrantResponse> obs) {
    LeaseGrantRequest req = r;
    if (r.getID() == 0) {
      // as etcd, the server picks a positive id before proposing; the applier stays deterministic
      long id;
      do {
        id = ids.nextLong() & Long.MAX_VALUE;
      } while (id == 0 || lessor.exists(id));
      req = r.toBuilder().setID(id).build();
    }
    Calls.answerAsync(obs, proposer.propose(req), m -> {
      LeaseGrantResponse g = (LeaseGrantResponse) m;
      return g.toBuilder().setHeader(headers.fill(g.getHeader())).build();
    });
  }

  @Override
  public void leaseRevoke(LeaseRevokeRequest r, StreamObserver<LeaseRevokeResponse> obs) {
    Calls.answerAsync(obs, proposer.propose(r), m -> {
      LeaseRevokeResponse g = (LeaseRevokeResponse) m;
      return g.toBuilder().setHeader(headers.fill(g.getHeader())).build();
    });
  }

  @Override
  public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(StreamObserver<LeaseKeepAliveResponse> obs) {
    return new StreamObserver<>() {
      private boolean failed; // guarded by obs

      @Override
      public void onNext(LeaseKeepAliveRequest r) {
        CompletableFuture<Message> answer = keepAlive(r, System.nanoTime() + KEEP_ALIVE_PATIENCE.toNanos());
        answer.whenComplete((m, err) -> {
          synchronized (obs) {
            if (failed) {
              return;
            }
            if (err != null) {
              failed = true;
              obs.onError(ErrorStatus.of(err).asRuntimeException());
            } else {
              LeaseKeepAliveResponse k = (LeaseKeepAliveResponse) m;
              obs.onNext(k.toBuilder().setHeader(headers.at(store.committedRevision())).build());
            }
          }
        });
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        synchronized (obs) {
          if (!failed) {
            obs.onCompleted();
          }
        }
      }
    };
  }

  /** How long a keep-alive is asked again while the answer is "not leader" (etcd's request timeout). */
  private static final java.time.Duration KEEP_ALIVE_PATIENCE = java.time.Duration.ofSeconds(5);
  private static final java.util.concurrent.Executor AGAIN =
      CompletableFuture.delayedExecutor(25, java.util.concurrent.TimeUnit.MILLISECONDS);

  /**
   * A keep-alive's answer. Only the leader knows the leases' deadlines: the others forward it there, as etcd
   * does. "Not leader" (the leader changed, or it holds the lease past its deadline until the revoke is applied:
   * {@link Lessor#renew}) is asked again, as etcd's server does, until the patience runs out.
   */
  private CompletableFuture<Message> keepAlive(LeaseKeepAliveRequest r, long deadline) {
    CompletableFuture<Message> answer;
    try {
      answer = proposer.isLeader() ? CompletableFuture.completedFuture(answerAsLeader(r)) : proposer.askLeader(r);
    } catch (EtcdException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    return answer.exceptionallyCompose(e -> {
      Throwable cause = ErrorStatus.unwrap(e);
      if (cause instanceof EtcdException ee && ee.error() == EtcdError.NOT_LEADER && System.nanoTime() < deadline) {
        return CompletableFuture.supplyAsync(() -> null, AGAIN).thenCompose(x -> keepAlive(r, deadline));
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  @Override
  public void leaseTimeToLive(LeaseTimeToLiveRequest r, StreamObserver<LeaseTimeToLiveResponse> obs) {
    CompletableFuture<Message> answer = proposer.isLeader()
        ? CompletableFuture.supplyAsync(() -> answerAsLeader(r), Runnable::run) : proposer.askLeader(r);
    Calls.answerAsync(obs, answer, m -> ((LeaseTimeToLiveResponse) m).toBuilder()
        .setHeader(headers.at(store.committedRevision())).build());
  }

  /**
   * The leader's answer to a keep-alive or time-to-live query, its own or one another member forwarded (the
   * header is filled by the member that answers the client).
   */
  public Message answerAsLeader(Message query) {
    if (query instanceof LeaseKeepAliveRequest r) {
      return LeaseKeepAliveResponse.newBuilder().setID(r.getID()).setTTL(lessor.renew(r.getID())).build();
    }
    LeaseTimeToLiveRequest r = (LeaseTimeToLiveRequest) query;
    LeaseTimeToLiveResponse.Builder resp = LeaseTimeToLiveResponse.newBuilder().setID(r.getID());
    Lessor.TimeToLive t = lessor.timeToLive(r.getID());
    if (t == null) {
      return resp.setTTL(-1).build();
    }
    resp.setTTL(t.ttl()).setGrantedTTL(t.grantedTtl());
    if (r.getKeys()) {
      resp.addAllKeys(t.keys());
    }
    return resp.build();
  }
}
