package io.dkv.server.api;

import io.dkv.server.concurrency.Elections;
import io.etcd.jetcd.api.CampaignRequest;
import io.etcd.jetcd.api.CampaignResponse;
import io.etcd.jetcd.api.ElectionGrpc;
import io.etcd.jetcd.api.LeaderRequest;
import io.etcd.jetcd.api.LeaderResponse;
import io.etcd.jetcd.api.ProclaimRequest;
import io.etcd.jetcd.api.ProclaimResponse;
import io.etcd.jetcd.api.ResignRequest;
import io.etcd.jetcd.api.ResignResponse;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Etcd's v3election service. Errors are answered as etcd's service answers them (see
 * {@link ErrorStatus#ofElection}).
 */
public final class ElectionService extends ElectionGrpc.ElectionImplBase {

  private final Elections elections;
  private final Headers headers;

  public ElectionService(Elections elections, Headers headers) {
    this.elections = elections;
    this.headers = headers;
  }

  private static CompletableFuture<Void> canceled() {
    CompletableFuture<Void> canceled = new CompletableFuture<>();
    Context.current().addListener(c -> canceled.complete(null), Runnable::run);
    return canceled;
  }

  private <T> void answer(StreamObserver<T> obs, CompletableFuture<Elections.Result> f,
      Function<Elections.Result, T> finish) {
    Calls.answerAsync(obs, f, finish, ErrorStatus::ofElection);
  }

  @Override
  public void campaign(CampaignRequest r, StreamObserver<CampaignResponse> obs) {
    answer(obs, elections.campaign(r.getName(), r.getLease(), r.getValue(), canceled()), res ->
        CampaignResponse.newBuilder().setHeader(headers.fill(res.header())).setLeader(res.leader()).build());
  }

  @Override
  public void proclaim(ProclaimRequest r, StreamObserver<ProclaimResponse> obs) {
    if (!r.hasLeader()) {
      obs.onError(ErrorStatus.missingLeaderKey().asRuntimeException());
      return;
    }
    answer(obs, elections.proclaim(r.getLeader(), r.getValue()), res ->
        ProclaimResponse.newBuilder().setHeader(headers.fill(res.header())).build());
  }

  @Override
  public void resign(ResignRequest r, StreamObserver<ResignResponse> obs) {
    if (!r.hasLeader()) {
      obs.onError(ErrorStatus.missingLeaderKey().asRuntimeException());
      return;
    }
    answer(obs, elections.resign(r.getLeader()), res ->
        ResignResponse.newBuilder().setHeader(headers.fill(res.header())).build());
  }

  @Override
  public void leader(LeaderRequest r, StreamObserver<LeaderResponse> obs) {
    LeaderResponse resp;
    try {
      var l = elections.leader(r.getName());
      resp = LeaderResponse.newBuilder().setHeader(headers.fill(l.getHeader())).setKv(l.getKvs(0)).build();
    } catch (RuntimeException e) {
      obs.onError(ErrorStatus.ofElection(e).asRuntimeException());
      return;
    }
    obs.onNext(resp);
    obs.onCompleted();
  }

  @Override
  public void observe(LeaderRequest r, StreamObserver<LeaderResponse> obs) {
    elections.observe(r.getName(), (header, kv) -> {
      try {
        obs.onNext(LeaderResponse.newBuilder().setHeader(headers.fill(header)).setKv(kv).build());
      } catch (RuntimeException e) {
        // the call was canceled meanwhile; the observer stops with the cancellation
      }
    }, canceled());
  }
}
