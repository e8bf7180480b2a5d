package io.dkv.server.api;

import io.dkv.server.concurrency.Elections;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.grpc.Status;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place errors become gRPC statuses, with etcd's exact codes and messages (etcd's
 * {@code etcdserver/api/v3rpc/rpctypes}), so that clients behave the same against DKV and etcd.
 */
final class ErrorStatus {

  private static final Logger log = LoggerFactory.getLogger(ErrorStatus.class);

  /** Etcd's v3election.ErrMissingLeaderKey. */
  static final String MISSING_LEADER_KEY = "\"leader\" field must be provided";

  private ErrorStatus() {}

  /** The status etcd answers {@code error} with. */
  static Status of(EtcdError error) {
    return switch (error) {
      case EMPTY_KEY -> invalidArgument("etcdserver: key is not provided");
      case KEY_NOT_FOUND -> invalidArgument("etcdserver: key not found");
      case VALUE_PROVIDED -> invalidArgument("etcdserver: value is provided");
      case LEASE_PROVIDED -> invalidArgument("etcdserver: lease is provided");
      case TOO_MANY_OPS -> invalidArgument("etcdserver: too many operations in txn request");
      case DUPLICATE_KEY -> invalidArgument("etcdserver: duplicate key given in txn request");
      case REQUEST_TOO_LARGE -> invalidArgument("etcdserver: request is too large");
      case COMPACTED -> Status.OUT_OF_RANGE.withDescription("etcdserver: mvcc: required revision has been compacted");
      case FUTURE_REV -> Status.OUT_OF_RANGE.withDescription("etcdserver: mvcc: required revision is a future revision");
      case LEASE_NOT_FOUND -> Status.NOT_FOUND.withDescription("etcdserver: requested lease not found");
      case LEASE_EXISTS -> Status.FAILED_PRECONDITION.withDescription("etcdserver: lease already exists");
      case LEASE_TTL_TOO_LARGE -> Status.OUT_OF_RANGE.withDescription("etcdserver: too large lease TTL");
      case STOPPED -> Status.UNAVAILABLE.withDescription("etcdserver: server stopped");
      case NO_LEADER -> Status.UNAVAILABLE.withDescription("etcdserver: no leader");
      case NOT_LEADER -> Status.FAILED_PRECONDITION.withDescription("etcdserver: not leader");
      case TIMEOUT -> Status.UNAVAILABLE.withDescription("etcdserver: request timed out");
      case LEADER_CHANGED -> Status.UNAVAILABLE.withDescription("etcdserver: leader changed");
      case MEMBER_EXISTS -> failedPrecondition("etcdserver: member ID already exist");
      case PEER_URL_EXISTS -> failedPrecondition("etcdserver: Peer URLs already exists");
      case MEMBER_NOT_FOUND -> Status.NOT_FOUND.withDescription("etcdserver: member not found");
      case MEMBER_BAD_URLS -> invalidArgument("etcdserver: given member URLs are invalid");
      case MEMBER_NOT_LEARNER -> failedPrecondition("etcdserver: can only promote a learner member");
      case LEARNER_NOT_READY ->
          failedPrecondition("etcdserver: can only promote a learner member which is in sync with leader");
      case TOO_MANY_LEARNERS -> failedPrecondition("etcdserver: too many learner members in cluster");
      case NOT_ENOUGH_STARTED ->
          failedPrecondition("etcdserver: re-configuration failed due to not enough started members");
      case UNHEALTHY -> Status.UNAVAILABLE.withDescription("etcdserver: unhealthy cluster");
      case BAD_LEADER_TRANSFEREE -> failedPrecondition("etcdserver: bad leader transferee");
      case LEADER_TRANSFER_TIMEOUT ->
          Status.UNAVAILABLE.withDescription("etcdserver: request timed out, leader transfer took too long");
      case CORRUPT -> Status.DATA_LOSS.withDescription("etcdserver: corrupt cluster");
    };
  }

  /**
   * The status a failed call answers with: an {@link EtcdException}'s (unwrapped from a
   * {@link CompletionException}); anything else is a server fault, logged, and INTERNAL.
   */
  static Status of(Throwable e) {
    Throwable cause = unwrap(e);
    if (cause instanceof EtcdException ee) {
      return of(ee.error());
    }
    log.error("request failed", cause);
    return Status.INTERNAL.withDescription(cause.toString());
  }

  /**
   * The status etcd's v3lock and v3election services answer with: they call the KV API as a client, and an
   * etcd error that comes back to them that way reaches their caller as UNKNOWN with etcd's message.
   */
  static Status viaClient(Throwable e) {
    Throwable cause = unwrap(e);
    if (cause instanceof CancellationException) {
      return Status.CANCELLED.withDescription("context canceled");
    }
    Status s = of(cause);
    return cause instanceof EtcdException ? Status.UNKNOWN.withDescription(s.getDescription()) : s;
  }

  /**
   * The status etcd's v3election service answers with: UNKNOWN with the message of the election error, or
   * of the KV error behind it.
   */
  static Status ofElection(Throwable e) {
    Throwable cause = unwrap(e);
    if (cause instanceof Elections.ElectionException ee) {
      return Status.UNKNOWN.withDescription(ee.getMessage());
    }
    return viaClient(cause);
  }

  /** Etcd's v3election.ErrMissingLeaderKey, for a Proclaim or Resign without a leader. */
  static Status missingLeaderKey() {
    return Status.UNKNOWN.withDescription(MISSING_LEADER_KEY);
  }

  /** What etcd's gRPC server (grpc-go) answers a request above its size limit with. */
  static Status messageTooLarge(int size, long limit) {
    return Status.RESOURCE_EXHAUSTED.withDescription(
        String.format("grpc: received message larger than max (%d vs. %d)", size, limit));
  }

  private static Status failedPrecondition(String message) {
    return Status.FAILED_PRECONDITION.withDescription(message);
  }

  private static Status invalidArgument(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message);
  }

  static Throwable unwrap(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }
}
