/**
 * Every gRPC service of the etcd v3 API (KV, Watch, Lease, Lock, Election, Maintenance, Cluster), the checks
 * etcd makes on requests before they reach the store, and the one mapping of errors to gRPC statuses with
 * etcd's exact codes and messages ({@code ErrorStatus}, as etcd's {@code v3rpc/rpctypes}).
 *
 * <p>Owns the protocol: translating calls into reads of the store, writes for the proposer and sessions of the
 * watch hub, and answers back. Holds no state of its own beyond a call. May depend on {@code apply},
 * {@code mvcc}, {@code watch}, {@code lease}, {@code concurrency} and {@code storage}; nothing but
 * {@code io.dkv.server} depends on it.
 *
 * <p>Thread-safety: services are called on gRPC's event loops (the server uses a direct executor), so a
 * handler never blocks: it answers from memory or the store at once, or completes when the proposer does.
 */
package io.dkv.server.api;
