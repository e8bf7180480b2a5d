package io.dkv.examples.uppercase;

import io.dkv.testing.TestServer;

/** The upper-case controller on a real etcd. */
class EtcdUpperCaseTest extends UpperCaseContract {
  EtcdUpperCaseTest() {
    super(TestServer.ETCD);
  }
}
