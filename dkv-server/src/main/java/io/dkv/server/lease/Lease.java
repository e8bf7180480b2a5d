package io.dkv.server.lease;

import com.google.protobuf.ByteString;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** One lease: its id, its granted TTL, the keys attached to it, and when it expires unless kept alive. */
final class Lease {
  final long id;
  final long ttlSeconds;
  /** Written by the writer thread only; read by any. */
  final Set<ByteString> keys = ConcurrentHashMap.newKeySet();
  /** Clock nanos at which the lease expires; guarded by this. */
  long deadline;
  /** True once its expiry has been proposed as a revoke; guarded by this. */
  boolean revoking;

  Lease(long id, long ttlSeconds) {
    this.id = id;
    this.ttlSeconds = ttlSeconds;
  }
}
