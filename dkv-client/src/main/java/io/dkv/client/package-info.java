/**
 * Coordination primitives over any etcd-v3 server (dkv-server or etcd), built on jetcd: typed values with
 * revisions ({@link io.dkv.client.Codec}, {@link io.dkv.client.Versioned}), watches with race-free snapshots that
 * resume by themselves ({@link io.dkv.client.DkvClient#watchPrefix}), counters, leases, locks with fencing
 * tokens, leader elections and presence. Start from {@link io.dkv.client.DkvClient}; the guide is docs/client.md.
 *
 * <pre>{@code
 * try (DkvClient client = DkvClient.connect("http://127.0.0.1:2379")) {
 *   long n = client.counter("jobs/next-id").add(1);
 *   try (LockHandle h = client.lock("locks/jobs", Duration.ofSeconds(10)).acquire()) {
 *     h.put("jobs/" + n, "queued");
 *   }
 * }
 * }</pre>
 */
package io.dkv.client;
