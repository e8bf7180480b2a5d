package io.dkv.controller;

import io.dkv.testing.TestServer;

/** Controllers over DKV informers on an in-process dkv-server. */
class DkvControllerE2ETest extends ControllerE2EContract {
  DkvControllerE2ETest() {
    super(TestServer.DKV);
  }
}
