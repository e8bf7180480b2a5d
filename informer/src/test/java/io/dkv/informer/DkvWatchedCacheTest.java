package io.dkv.informer;

import io.dkv.testing.TestServer;

/** {@link WatchedCache} against an in-process dkv-server. */
class DkvWatchedCacheTest extends WatchedCacheContract {
  DkvWatchedCacheTest() {
    super(TestServer.DKV, 200);
  }
}
