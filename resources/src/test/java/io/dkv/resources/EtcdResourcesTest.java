package io.dkv.resources;

import io.dkv.testing.TestServer;

/** The ResourceClient contract against a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdResourcesTest extends ResourcesContract {
  EtcdResourcesTest() {
    super(TestServer.ETCD);
  }
}
