package io.dkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Which endpoints a client accepts, what they mean, and what it says about the others. */
class EndpointsTest {

  private static Endpoints parse(boolean tlsOptions, String... given) {
    return Endpoints.parse(Arrays.asList(given), tlsOptions);
  }

  @ParameterizedTest
  @CsvSource({
      "127.0.0.1:2379,         127.0.0.1, 2379, false",
      "http://127.0.0.1:2379,  127.0.0.1, 2379, false",
      "https://etcd-1:2379,    etcd-1,    2379, true",
      "http://localhost:23791/, localhost, 23791, false",
      "HTTPS://etcd.example.com:443, etcd.example.com, 443, true",
      "'[::1]:2379',           ::1,       2379, false",
      "'http://[::1]:2379',    ::1,       2379, false",
      "'https://[fe80::1]:2379', fe80::1, 2379, true",
  })
  void acceptsTheThreeFormsWithoutTlsOptions(String given, String host, int port, boolean tls) {
    Endpoints e = parse(false, given);
    assertEquals(host, e.all().get(0).host());
    assertEquals(port, e.all().get(0).port());
    assertEquals(tls, e.tls(), "TLS of " + given);
  }

  @Test
  void aBareHostPortIsTlsOnlyWithTlsOptions() {
    assertFalse(parse(false, "10.0.0.1:2379").tls());
    assertTrue(parse(true, "10.0.0.1:2379").tls());
    assertTrue(parse(true, "10.0.0.1:2379", "https://10.0.0.2:2379").tls());
  }

  @Test
  void theTargetIsAValidUriWhosePathListsHostAndPortOfEachIpv6InBrackets() {
    Endpoints e = parse(false, "[::1]:2379", "http://127.0.0.1:2380");
    URI target = URI.create(e.target()); // jetcd's own ip:///[::1]:2379 is not a valid URI
    assertEquals("ip", target.getScheme());
    assertEquals("/[::1]:2379,127.0.0.1:2380", target.getPath());
    assertEquals("any of [::1]:2379, 127.0.0.1:2380", e.toString());
    assertEquals("127.0.0.1:2379", parse(false, "http://127.0.0.1:2379").toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "htp://127.0.0.1:2379        | unknown scheme 'htp'",
      "unix:///var/run/etcd.sock   | unknown scheme 'unix'",
      "127.0.0.1                   | missing port",
      "http://127.0.0.1            | missing port",
      "http://127.0.0.1:           | missing port",
      "'[::1]'                     | missing port",
      "http://127.0.0.1:2379/v3/kv | no path",
      "http://127.0.0.1:2379?x=1   | no path, query",
      "http://user@127.0.0.1:2379  | user info",
      "::1:2379                    | needs brackets",
      "127.0.0.1:port              | 'port' is not a number",
      "127.0.0.1:0                 | outside 1-65535",
      "127.0.0.1:70000             | outside 1-65535",
      ":2379                       | missing host",
      "my_host:2379                | not a host name",
  })
  void refusesEverythingElseNamingTheEndpointAndWhatIsAccepted(String given, String why) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(false, given));
    assertTrue(e.getMessage().contains("'" + given + "'"), e.getMessage());
    assertTrue(e.getMessage().contains(why), e.getMessage());
    assertTrue(e.getMessage().contains(Endpoints.ACCEPTED), e.getMessage());
  }

  @Test
  void refusesHttpWithTlsOptions() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> parse(true, "http://10.0.0.1:2379"));
    assertTrue(e.getMessage().contains("'http://10.0.0.1:2379'") && e.getMessage().contains("use https://"),
        e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://a:1,https://b:2", "a:1,https://b:2"})
  void refusesEndpointsThatDisagreeOnTls(String list) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Endpoints.parse(List.of(list.split(",")), false));
    assertTrue(e.getMessage().contains("mix plain text and TLS") && e.getMessage().contains("https://b:2"),
        e.getMessage());
  }

  @Test
  void refusesNoEndpointsAndBlankOnes() {
    assertThrows(IllegalArgumentException.class, () -> parse(false));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(false, " "));
    assertTrue(e.getMessage().contains("empty endpoint"), e.getMessage());
  }

  /** The builder applies the same rules at build(), before connecting anywhere. */
  @Test
  void theBuilderRefusesAtBuild() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DkvClient.connect("htp://127.0.0.1:2379"));
    assertTrue(e.getMessage().contains("'htp://127.0.0.1:2379'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DkvClient.builder().endpoints("http://127.0.0.1:2379")
        .trustedCertificates(Path.of("ca.crt")).build());
    // accepted forms build (connecting lazily, so no server is needed)
    DkvClient.connect("127.0.0.1:2379").close();
    DkvClient.connect("[::1]:2379").close();
    DkvClient.connect("https://127.0.0.1:2379").close();
  }
}
