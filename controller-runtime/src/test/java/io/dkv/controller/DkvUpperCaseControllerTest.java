package io.dkv.controller;

import io.dkv.testing.TestServer;

/** The upper-case controller on an in-process dkv-server. */
class DkvUpperCaseControllerTest extends UpperCaseControllerContract {
  DkvUpperCaseControllerTest() {
    super(TestServer.DKV);
  }
}
