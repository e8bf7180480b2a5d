package io.dkv.resources;

import io.dkv.testing.TestServer;

/** The ResourceClient contract against an in-process dkv-server. */
class DkvResourcesTest extends ResourcesContract {
  DkvResourcesTest() {
    super(TestServer.DKV);
  }
}
