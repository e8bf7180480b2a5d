package io.dkv.informer;

import io.dkv.client.testing.TestServer;

/** {@link WatchedCache} against an in-process dkv-server. */
class DkvWatchedCacheTest extends WatchedCacheContract {
  DkvWatchedCacheTest() {
    super(TestServer.DKV, 200);
  }
}
