package io.dkv.server.api;

import io.dkv.server.mvcc.EtcdError;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;

/** Answers unary calls: a value, or an error mapped to etcd's status by {@link ErrorStatus}. */
final class Calls {

  private Calls() {}

  static <T> void answer(StreamObserver<T> obs, Supplier<T> body) {
    T resp;
    try {
      resp = body.get();
    } catch (RuntimeException e) {
      obs.onError(ErrorStatus.of(e).asRuntimeException());
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
      obs.onError(ErrorStatus.of(EtcdError.STOPPED).asRuntimeException());
    }
  }

  /** As {@link #answer}, once {@code barrier} completes (a linearizable read's ReadIndex), or its error. */
  static <T> void answerAfter(CompletableFuture<Void> barrier, StreamObserver<T> obs, Supplier<T> body) {
    barrier.whenComplete((v, err) -> {
      if (err != null) {
        obs.onError(ErrorStatus.of(err).asRuntimeException());
      } else {
        answer(obs, body);
      }
    });
  }

  static <R, T> void answerAsync(StreamObserver<T> obs, CompletableFuture<R> future, Function<R, T> finish) {
    answerAsync(obs, future, finish, ErrorStatus::of);
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
}
