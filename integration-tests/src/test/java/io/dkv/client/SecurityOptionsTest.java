package io.dkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.testing.EtcdProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client's authentication and TLS options reach the server (a real etcd with authentication on). */
class SecurityOptionsTest {

  @TempDir
  Path dir;

  private static void etcdctl(int port, String... args) throws Exception {
    Process p = EtcdProcess.etcdctl(port, List.of(args)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("etcdctl " + String.join(" ", args) + ": " + out);
    }
  }

  @Test
  void credentialsAuthenticateAgainstAnEtcdWithAuthentication() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start()) {
      etcdctl(etcd.port(), "user", "add", "root:rootpw");
      etcdctl(etcd.port(), "user", "grant-role", "root", "root");
      etcdctl(etcd.port(), "auth", "enable");

      try (DkvClient client = DkvClient.builder().endpoints(etcd.endpoint()).credentials("root", "rootpw")
          .requestTimeout(Duration.ofSeconds(10)).build()) {
        client.put("secured", "yes");
        assertEquals("yes", client.get("secured").orElseThrow().value());
      }
      try (DkvClient anonymous = DkvClient.builder().endpoints(etcd.endpoint())
          .requestTimeout(Duration.ofSeconds(10)).build()) {
        DkvException e = assertThrows(DkvException.class, () -> anonymous.get("secured"));
        assertTrue(String.valueOf(e.getMessage()).contains("user name is empty")
            || String.valueOf(e.getCause()).contains("user name is empty"), String.valueOf(e));
      }
    }
  }

  @Test
  void unreadableCertificatesAreRejectedWhenBuilding() throws Exception {
    Path notPem = Files.writeString(dir.resolve("ca.crt"), "not a certificate");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DkvClient.builder().endpoints("https://127.0.0.1:2379").trustedCertificates(notPem).build());
    assertTrue(e.getMessage().startsWith("invalid TLS certificates"), e.getMessage());
  }
}
