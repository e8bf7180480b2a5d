package io.dkv.server.concurrency;

import io.dkv.server.apply.Proposer;
import io.dkv.server.lease.Lessor;
import io.etcd.jetcd.api.LeaseGrantRequest;
import java.security.SecureRandom;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The lease a lock or election call acts under: the one given, or, for lease 0, a new lease of etcd's
 * default session TTL (60 s), as etcd's v3lock and v3election services do.
 */
final class Sessions {

  static final long DEFAULT_TTL = 60;

  private final Proposer proposer;
  private final Lessor lessor;
  private final Random ids = new SecureRandom();

  Sessions(Proposer proposer, Lessor lessor) {
    this.proposer = proposer;
    this.lessor = lessor;
  }

  CompletableFuture<Long> lease(long lease) {
    if (lease != 0) {
      return CompletableFuture.completedFuture(lease);
    }
    long id;
    do {
      id = ids.nextLong() & Long.MAX_VALUE;
    } while (id == 0 || lessor.exists(id));
    long granted = id;
    return proposer.propose(LeaseGrantRequest.newBuilder().setID(id).setTTL(DEFAULT_TTL).build())
        .thenApply(r -> granted);
  }
}
