/**
 * Leases: grant, keep-alive, the keys attached to each, and expiry, which proposes a revoke for every lease
 * past its deadline (the applier never reads a clock).
 *
 * <p>Owns the lease table and its records in the {@code lease} column family. May depend on {@code apply}
 * (the commands it proposes), {@code mvcc} and {@code storage}.
 *
 * <p>Thread-safety: the {@code LeaseState} methods run on the proposer's writer thread; keep-alives, lookups
 * and expiry on any thread.
 */
package io.dkv.server.lease;
