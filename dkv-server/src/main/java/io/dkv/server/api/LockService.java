package io.dkv.server.api;

import io.dkv.server.concurrency.Locks;
import io.etcd.jetcd.api.lock.LockGrpc;
import io.etcd.jetcd.api.lock.LockRequest;
import io.etcd.jetcd.api.lock.LockResponse;
import io.etcd.jetcd.api.lock.UnlockRequest;
import io.etcd.jetcd.api.lock.UnlockResponse;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/** Etcd's v3lock service: Lock waits for ownership without holding a thread; a canceled Lock gives up its key. */
public final class LockService extends LockGrpc.LockImplBase {

  private final Locks locks;
  private final Headers headers;

  public LockService(Locks locks, Headers headers) {
    this.locks = locks;
    this.headers = headers;
  }

  @Override
  public void lock(LockRequest r, StreamObserver<LockResponse> obs) {
    CompletableFuture<Void> canceled = new CompletableFuture<>();
    Context.current().addListener(c -> canceled.complete(null), Runnable::run);
    Calls.answerAsync(obs, locks.lock(r.getName(), r.getLease(), canceled), a ->
        LockResponse.newBuilder().setHeader(headers.fill(a.header())).setKey(a.key()).build(), ErrorStatus::viaClient);
  }

  @Override
  public void unlock(UnlockRequest r, StreamObserver<UnlockResponse> obs) {
    Calls.answerAsync(obs, locks.unlock(r.getKey()), h ->
        UnlockResponse.newBuilder().setHeader(headers.fill(h)).build(), ErrorStatus::viaClient);
  }
}
