package io.dkv.informer;

import io.dkv.testing.TestServer;

/** The informer contract against an in-process dkv-server. */
class DkvInformerTest extends InformerContract {
  DkvInformerTest() {
    super(TestServer.DKV);
  }
}
