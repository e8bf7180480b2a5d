package io.dkv.informer;

import io.dkv.testing.TestServer;

/** {@link WatchedCache} against a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdWatchedCacheTest extends WatchedCacheContract {
  EtcdWatchedCacheTest() {
    super(TestServer.ETCD, 150); // etcd fsyncs every write: fewer writes per writer
  }
}
