package io.dkv.examples.uppercase;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dkv.testing.TestServer;
import org.junit.jupiter.api.Test;

/** The upper-case controller on an in-process dkv-server. */
class DkvUpperCaseTest extends UpperCaseContract {
  DkvUpperCaseTest() {
    super(TestServer.DKV);
  }

  /** The controller above ran with no fabric8 class at all: the etcd path does not need it. */
  @Test
  void fabric8IsNotOnTheClassPath() {
    assertThrows(ClassNotFoundException.class, () -> Class.forName("io.fabric8.kubernetes.api.model.HasMetadata"));
  }
}
