package io.dkv.server.mvcc;

/** A request failed with one of etcd's errors ({@link #error()}); nothing it asked for was applied. */
public final class EtcdException extends RuntimeException {
  private final EtcdError error;

  EtcdException(EtcdError error) {
    super(error.text(), null, false, false);
    this.error = error;
  }

  public EtcdError error() {
    return error;
  }
}
