/**
 * Test fixtures for applications and DKV's own modules: servers to run a test against ({@link
 * io.dkv.testing.TestServer}: an in-process dkv-server or a real etcd; {@link io.dkv.testing.ServerTestBase}
 * for a contract test class), processes that can be killed ({@link io.dkv.testing.DkvProcess}, {@link
 * io.dkv.testing.EtcdProcess}), clusters a fault test can break ({@link io.dkv.testing.FaultyCluster}: kill, pause,
 * partition, restart on an empty data directory; {@link io.dkv.testing.EtcdCluster}, {@link
 * io.dkv.testing.DkvCluster}), a TCP fault proxy ({@link io.dkv.testing.TcpProxy}), a filesystem that loses
 * unsynced writes at a power cut ({@link io.dkv.testing.LazyFs}) and fabric8's mock Kubernetes API server ({@link
 * io.dkv.testing.MockKubernetes}). Add it with test scope.
 *
 * <p>A test that needs the {@code etcd} binary (or, for {@code LazyFs}, FUSE and Debian's python3-fusepy) is
 * skipped, saying why, when it is not installed, and fails instead when the system property {@code etcd.required}
 * is true (as in DKV's CI).
 */
package io.dkv.testing;
