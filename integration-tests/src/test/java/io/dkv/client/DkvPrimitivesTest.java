package io.dkv.client;

import io.dkv.testing.TestServer;

/** The primitives against an in-process dkv-server. */
class DkvPrimitivesTest extends PrimitivesContract {
  DkvPrimitivesTest() {
    super(TestServer.DKV);
  }

  @Override
  int incrementsPerThread() {
    return 250; // 16 x 250 contended compare-and-sets: every one a Raft entry, synced, as etcd's (16 x 100)
  }
}
