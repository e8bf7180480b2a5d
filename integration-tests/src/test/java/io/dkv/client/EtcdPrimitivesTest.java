package io.dkv.client;

import io.dkv.testing.TestServer;

/** The primitives against a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdPrimitivesTest extends PrimitivesContract {
  EtcdPrimitivesTest() {
    super(TestServer.ETCD);
  }

  @Override
  int incrementsPerThread() {
    return 100; // etcd fsyncs every write
  }
}
