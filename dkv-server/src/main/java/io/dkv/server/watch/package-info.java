/**
 * The watch engine: {@code WatchHub} delivers the committed history to watchers with etcd's guarantees (in
 * revision order, each event once, no gap, a revision's events in one response, compaction signalled).
 * Watchers are synced (fed from each commit) or unsynced (behind: fed from storage in batches); a stream whose
 * transport is full drops back to unsynced, so a slow client never blocks the writer nor loses an event.
 *
 * <p>Owns watchers, their matching index and the per-stream senders; the gRPC Watch service that feeds it
 * requests is in {@code api}, behind {@link io.dkv.server.watch.WatchOutput} and
 * {@link io.dkv.server.watch.WatchHub.Session}. May depend on {@code mvcc} (and on gRPC's marshalling only,
 * for its pre-encoded responses).
 *
 * <p>Thread-safety: everything runs on the hub's one thread; {@code publish} and the session methods may be
 * called from any thread and take effect there in order. A watch's start revision is taken on the calling
 * thread, when its create request arrives.
 */
package io.dkv.server.watch;
