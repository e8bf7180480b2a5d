package io.dkv.controller;

import io.dkv.testing.TestServer;

/** Controllers over DKV informers on a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdControllerE2ETest extends ControllerE2EContract {
  EtcdControllerE2ETest() {
    super(TestServer.ETCD);
  }
}
