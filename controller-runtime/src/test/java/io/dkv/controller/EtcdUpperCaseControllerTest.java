package io.dkv.controller;

import io.dkv.client.testing.TestServer;

/** The upper-case controller on a real etcd. */
class EtcdUpperCaseControllerTest extends UpperCaseControllerContract {
  EtcdUpperCaseControllerTest() {
    super(TestServer.ETCD);
  }
}
