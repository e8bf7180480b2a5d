package io.dkv.client;

import io.dkv.testing.TestServer;

/** The list/watch source against a real etcd. */
class EtcdListWatchTest extends ListWatchContract {
  EtcdListWatchTest() {
    super(TestServer.ETCD);
  }
}
