package io.dkv.informer;

import io.dkv.testing.TestServer;

/** The informer contract against a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdInformerTest extends InformerContract {
  EtcdInformerTest() {
    super(TestServer.ETCD);
  }
}
