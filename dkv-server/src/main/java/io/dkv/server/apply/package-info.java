/**
 * How writes become durable and ordered: the {@code Proposer} (locally, {@code LocalProposer}'s group commit:
 * one synced write for every command waiting) and the {@code Applier}, the deterministic state machine that
 * applies one command to the store ({@code KvOps}: etcd's Range, Put, DeleteRange and Txn semantics) and the
 * alarm requests to the alarm store, and refuses what etcd's applier refuses while CORRUPT is raised.
 *
 * <p>Owns the write path from a proposed command to its acknowledgement: a command is acknowledged only once
 * durable; after a failed sync nothing more is. The applier uses no clock and no randomness. May depend on
 * {@code mvcc} and {@code alarm} only.
 *
 * <p>Thread-safety: {@code Proposer.propose} is thread-safe; the applier and {@code KvOps}' writes run on
 * the proposer's one writer thread; {@code KvOps}' reads run on any thread over a read view.
 */
package io.dkv.server.apply;
