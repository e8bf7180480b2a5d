/**
 * The cluster's alarms, as etcd's {@code v3alarm}: which members have which alarm (NOSPACE, CORRUPT) raised.
 *
 * <p>Owns the record of alarms only, not what they mean: the applier decides which requests an alarm refuses,
 * the corruption checks ({@code raft}) and a backend quota decide when to raise one. Changed only by the applier
 * (so that every member holds the same), in the batch of the log entry that changed it; stored in the
 * {@code meta} column family. May depend on {@code storage} only.
 *
 * <p>Thread-safety: written on the applier thread, read from any thread.
 */
package io.dkv.server.alarm;
