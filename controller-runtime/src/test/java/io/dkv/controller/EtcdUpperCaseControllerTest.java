package io.dkv.controller;

import io.dkv.testing.TestServer;

/** The upper-case controller on a real etcd. */
class EtcdUpperCaseControllerTest extends UpperCaseControllerContract {
  EtcdUpperCaseControllerTest() {
    super(TestServer.ETCD);
  }
}
