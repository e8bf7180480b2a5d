package io.dkv.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.mvcc.EtcdError;
import io.grpc.Status;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The one mapping of errors to gRPC statuses: etcd's codes and messages, and how wrapped failures unwrap. */
class ErrorStatusTest {

  @Test
  void everyKindHasEtcdsCodeAndMessage() {
    for (EtcdError e : EtcdError.values()) {
      Status s = ErrorStatus.of(e);
      assertTrue(s.getCode() != Status.Code.OK && s.getCode() != Status.Code.UNKNOWN, e + ": " + s);
      assertTrue(s.getDescription().startsWith("etcdserver: "), e + ": " + s);
    }
    // a few, as etcd's rpctypes has them (clients match on these)
    assertEquals(Status.OUT_OF_RANGE.withDescription("etcdserver: mvcc: required revision has been compacted")
        .toString(), ErrorStatus.of(EtcdError.COMPACTED).toString());
    assertEquals(Status.NOT_FOUND.withDescription("etcdserver: requested lease not found").toString(),
        ErrorStatus.of(EtcdError.LEASE_NOT_FOUND).toString());
    assertEquals(Status.UNAVAILABLE.withDescription("etcdserver: server stopped").toString(),
        ErrorStatus.of(EtcdError.STOPPED).toString());
    assertEquals(Status.DATA_LOSS.withDescription("etcdserver: corrupt cluster").toString(),
        ErrorStatus.of(EtcdError.CORRUPT).toString());
  }

  @Test
  void aFailedFutureUnwrapsToItsEtcdErrorAndAnythingElseIsInternal() {
    Status wrapped = ErrorStatus.of(new CompletionException(EtcdError.FUTURE_REV.exception()));
    assertEquals(ErrorStatus.of(EtcdError.FUTURE_REV).toString(), wrapped.toString());
    Status fault = ErrorStatus.of(new CompletionException(new IllegalStateException("broken")));
    assertEquals(Status.Code.INTERNAL, fault.getCode());
    assertEquals("java.lang.IllegalStateException: broken", fault.getDescription());
  }

  @Test
  void lockAndElectionAnswerEtcdErrorsAsUnknownWithTheSameMessage() {
    Status s = ErrorStatus.viaClient(new CompletionException(EtcdError.LEASE_NOT_FOUND.exception()));
    assertEquals(Status.UNKNOWN.withDescription("etcdserver: requested lease not found").toString(), s.toString());
    assertEquals(Status.CANCELLED.withDescription("context canceled").toString(),
        ErrorStatus.viaClient(new CancellationException()).toString());
    assertEquals(Status.UNKNOWN.withDescription("\"leader\" field must be provided").toString(),
        ErrorStatus.missingLeaderKey().toString());
  }
}
