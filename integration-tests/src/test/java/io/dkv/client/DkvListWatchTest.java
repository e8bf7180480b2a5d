package io.dkv.client;

import io.dkv.testing.TestServer;

/** The list/watch source against an in-process dkv-server. */
class DkvListWatchTest extends ListWatchContract {
  DkvListWatchTest() {
    super(TestServer.DKV);
  }
}
