package io.dkv.controller;

import io.dkv.testing.TestServer;

/** Leader election of managers on a real etcd (skipped without the binary, unless -Detcd.required=true). */
class EtcdLeaderElectionTest extends LeaderElectionContract {
  EtcdLeaderElectionTest() {
    super(TestServer.ETCD);
  }
}
