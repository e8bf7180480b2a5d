package io.dkv.server.mvcc;

/**
 * The kinds of etcd error a request can fail with inside the server (the store, the applier, the lessor, the
 * request checks), each with the text etcd's own layer gives it (as etcd's {@code mvcc.ErrCompacted} or
 * {@code lease.ErrLeaseNotFound}). The gRPC status each kind reaches a client as — etcd's exact code and
 * message — is mapped in one place, {@code io.dkv.server.api.ErrorStatus}, as etcd's {@code v3rpc/rpctypes}.
 */
public enum EtcdError {
  EMPTY_KEY("key is not provided"),
  KEY_NOT_FOUND("key not found"),
  VALUE_PROVIDED("value is provided"),
  LEASE_PROVIDED("lease is provided"),
  TOO_MANY_OPS("too many operations in txn request"),
  DUPLICATE_KEY("duplicate key given in txn request"),
  REQUEST_TOO_LARGE("request is too large"),
  COMPACTED("mvcc: required revision has been compacted"),
  FUTURE_REV("mvcc: required revision is a future revision"),
  LEASE_NOT_FOUND("lease not found"),
  LEASE_EXISTS("lease already exists"),
  LEASE_TTL_TOO_LARGE("too large lease TTL"),
  STOPPED("server stopped"),
  NO_LEADER("no leader"),
  NOT_LEADER("not leader"),
  TIMEOUT("request timed out"),
  LEADER_CHANGED("leader changed"),
  MEMBER_EXISTS("member ID already exist"),
  PEER_URL_EXISTS("Peer URLs already exists"),
  MEMBER_NOT_FOUND("member not found"),
  MEMBER_BAD_URLS("given member URLs are invalid"),
  MEMBER_NOT_LEARNER("can only promote a learner member"),
  LEARNER_NOT_READY("can only promote a learner member which is in sync with leader"),
  TOO_MANY_LEARNERS("too many learner members in cluster"),
  NOT_ENOUGH_STARTED("re-configuration failed due to not enough started members"),
  UNHEALTHY("unhealthy cluster"),
  BAD_LEADER_TRANSFEREE("bad leader transferee"),
  LEADER_TRANSFER_TIMEOUT("request timed out, leader transfer took too long"),
  /** A write refused while the CORRUPT alarm is raised (etcd's ErrCorrupt). */
  CORRUPT("corrupt cluster");

  private final String text;

  EtcdError(String text) {
    this.text = text;
  }

  /** A new exception of this kind (without a stack trace: these are answers, not faults). */
  public EtcdException exception() {
    return new EtcdException(this);
  }

  /** What went wrong, in etcd's words for its own layer (not the client's message). */
  public String text() {
    return text;
  }
}
