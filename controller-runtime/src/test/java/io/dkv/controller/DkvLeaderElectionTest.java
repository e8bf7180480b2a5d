package io.dkv.controller;

import io.dkv.testing.TestServer;

/** Leader election of managers on an in-process dkv-server. */
class DkvLeaderElectionTest extends LeaderElectionContract {
  DkvLeaderElectionTest() {
    super(TestServer.DKV);
  }
}
