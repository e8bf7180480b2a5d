package io.dkv.server.api;

import io.dkv.server.mvcc.EtcdException;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers unary calls: a value, or an error mapped to etcd's status. */
final class Calls {

  private static final Logger log = LoggerFactory.getLogger(Calls.class);

  private Calls() {}

  static <T> void answer(StreamObserver<T> obs, Supplier<T> body) {
    T resp;
    try {
      resp = body.get();
    } catch (RuntimeException e) {
      obs.onError(toStatus(e).asRuntimeException());
      return;
    }
    obs.onNext(resp);
    obs.onCompleted();
  }

  /** As {@link #answer}, but computes the answer on {@code executor}. */
  static <T> void answerOn(Executor executor, StreamObserver<T> obs, Supplier<T> body) {
    try {
      executor.execute(() -> answer(obs, body));
    } catch (RejectedExecutionException e) {
      obs.onError(Status.UNAVAILABLE.withDescription("server is stopping").asRuntimeException());
    }
  }

  static <R, T> void answerAsync(StreamObserver<T> obs, CompletableFuture<R> future, Function<R, T> finish) {
    answerAsync(obs, future, finish, Calls::toStatus);
  }

  static <R, T> void answerAsync(StreamObserver<T> obs, CompletableFuture<R> future, Function<R, T> finish,
      Function<Throwable, Status> errors) {
    future.whenComplete((r, err) -> {
      if (err != null) {
        obs.onError(errors.apply(err).asRuntimeException());
      } else {
        obs.onNext(finish.apply(r));
        obs.onCompleted();
      }
    });
  }

  /**
   * The status etcd's v3lock and v3election services answer with: they call the KV API as a client, and
   * an error that comes back to them that way reaches their caller as UNKNOWN with etcd's message.
   */
  static Status viaClient(Throwable e) {
    if (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof java.util.concurrent.CancellationException) {
      return Status.CANCELLED.withDescription("context canceled");
    }
    Status s = toStatus(e);
    return e instanceof EtcdException ? Status.UNKNOWN.withDescription(s.getDescription()) : s;
  }

  static Status toStatus(Throwable e) {
    if (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof EtcdException ee) {
      return ee.error().status();
    }
    log.error("request failed", e);
    return Status.INTERNAL.withDescription(e.toString());
  }
}
