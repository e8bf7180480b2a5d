package io.dkv.client;

import io.dkv.testing.TestServer;

/** The primitives against an in-process dkv-server. */
class DkvPrimitivesTest extends PrimitivesContract {
  DkvPrimitivesTest() {
    super(TestServer.DKV);
  }

  @Override
  int incrementsPerThread() {
    return 1000;
  }
}
