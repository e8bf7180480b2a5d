package io.dkv.client;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The endpoints a client was given, checked and normalized. Accepted, for every endpoint alike:
 * {@code host:port}, {@code http://host:port} and {@code https://host:port}, an IPv6 host in brackets
 * ({@code [::1]:2379}); a trailing {@code /} is ignored. {@code https://} means TLS; {@code http://} plain text;
 * a bare {@code host:port} means TLS if TLS options (trusted certificates or a client certificate) are given and
 * plain text otherwise (etcdctl's rule). All endpoints of one client must agree on TLS. Anything else (an unknown
 * scheme, a missing port, a path, a query, user info, {@code http://} together with TLS options) is refused with an
 * {@link IllegalArgumentException} naming the endpoint and saying what is accepted.
 */
final class Endpoints {

  static final String ACCEPTED = "accepted: host:port, http://host:port, https://host:port"
      + " (an IPv6 host in brackets, like [::1]:2379)";

  /** One server's address; {@code host} without brackets. */
  record Endpoint(String given, String host, int port, boolean tls) {
    /** {@code host:port}, IPv6 hosts in brackets. */
    String address() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  private final List<Endpoint> endpoints;
  private final boolean tls;

  private Endpoints(List<Endpoint> endpoints, boolean tls) {
    this.endpoints = List.copyOf(endpoints);
    this.tls = tls;
  }

  /**
   * Checks and parses {@code given}.
   *
   * @param tlsOptions whether TLS options (trusted certificates, a client certificate) were given
   * @throws IllegalArgumentException naming the first endpoint that is not accepted, or the endpoints that
   *     disagree on TLS
   */
  static Endpoints parse(List<String> given, boolean tlsOptions) {
    if (given.isEmpty()) {
      throw new IllegalArgumentException("no endpoints; " + ACCEPTED);
    }
    List<Endpoint> parsed = new ArrayList<>(given.size());
    for (String e : given) {
      parsed.add(parseOne(e, tlsOptions));
    }
    boolean tls = parsed.get(0).tls();
    for (Endpoint e : parsed) {
      if (e.tls() != tls) {
        throw new IllegalArgumentException("endpoints " + given + " mix plain text and TLS ("
            + describe(parsed, true) + " with TLS, " + describe(parsed, false)
            + " without); use one scheme for all of them (a bare host:port is TLS only with TLS options)");
      }
    }
    return new Endpoints(parsed, tls);
  }

  private static String describe(List<Endpoint> all, boolean tls) {
    return all.stream().filter(e -> e.tls() == tls).map(Endpoint::given).collect(Collectors.joining(", "));
  }

  private static Endpoint parseOne(String given, boolean tlsOptions) {
    if (given == null || given.isBlank()) {
      throw new IllegalArgumentException("empty endpoint '" + given + "'; " + ACCEPTED);
    }
    String rest = given.strip();
    boolean tls = tlsOptions;
    int schemeEnd = rest.indexOf("://");
    if (schemeEnd >= 0) {
      String scheme = rest.substring(0, schemeEnd);
      rest = rest.substring(schemeEnd + 3);
      switch (scheme.toLowerCase(java.util.Locale.ROOT)) {
        case "http" -> {
          if (tlsOptions) {
            throw invalid(given, "http:// means plain text, but TLS options (certificates) are given;"
                + " use https://");
          }
          tls = false;
        }
        case "https" -> tls = true;
        default -> throw invalid(given, "unknown scheme '" + scheme + "'");
      }
    }
    if (rest.endsWith("/")) {
      rest = rest.substring(0, rest.length() - 1);
    }
    if (rest.indexOf('/') >= 0 || rest.indexOf('?') >= 0 || rest.indexOf('#') >= 0) {
      throw invalid(given, "an endpoint has no path, query or fragment");
    }
    if (rest.indexOf('@') >= 0) {
      throw invalid(given, "user info in an endpoint is not supported; use credentials(user, password)");
    }
    String host;
    String port;
    if (rest.startsWith("[")) {
      int close = rest.indexOf(']');
      if (close < 0) {
        throw invalid(given, "unclosed '[' of an IPv6 address");
      }
      host = rest.substring(1, close);
      String after = rest.substring(close + 1);
      if (!after.startsWith(":")) {
        throw invalid(given, "missing port");
      }
      port = after.substring(1);
      if (host.isEmpty() || host.indexOf(':') < 0) {
        throw invalid(given, "'[" + host + "]' is not an IPv6 address");
      }
    } else {
      int colon = rest.lastIndexOf(':');
      if (colon < 0) {
        throw invalid(given, "missing port");
      }
      if (rest.indexOf(':') != colon) {
        throw invalid(given, "an IPv6 host needs brackets, like [::1]:2379");
      }
      host = rest.substring(0, colon);
      port = rest.substring(colon + 1);
      if (host.isEmpty()) {
        throw invalid(given, "missing host");
      }
      if (!validHostName(host)) {
        throw invalid(given, "'" + host + "' is not a host name or address");
      }
    }
    return new Endpoint(given, host, port(given, port), tls);
  }

  private static boolean validHostName(String host) {
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (!(Character.isLetterOrDigit(c) || c == '-' || c == '.')) {
        return false;
      }
    }
    return true;
  }

  private static int port(String given, String port) {
    if (port.isEmpty()) {
      throw invalid(given, "missing port");
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw invalid(given, "port '" + port + "' is not a number");
    }
    if (p < 1 || p > 65535) {
      throw invalid(given, "port " + p + " is outside 1-65535");
    }
    return p;
  }

  private static IllegalArgumentException invalid(String given, String why) {
    return new IllegalArgumentException("invalid endpoint '" + given + "': " + why + "; " + ACCEPTED);
  }

  /** Whether the client talks TLS to every endpoint. */
  boolean tls() {
    return tls;
  }

  List<Endpoint> all() {
    return endpoints;
  }

  /**
   * The gRPC target for jetcd's {@code ip} name resolver: {@code ip:///host:port,host:port}. Built here rather than
   * by jetcd's {@code ClientBuilder.endpoints}, whose target for an IPv6 endpoint ({@code ip:///[::1]:2379}) is not
   * a valid URI; the brackets are escaped, and the resolver reads them back from the decoded path.
   */
  String target() {
    return "ip:///" + endpoints.stream().map(e -> e.address().replace("[", "%5B").replace("]", "%5D"))
        .collect(Collectors.joining(","));
  }

  /** For messages: {@code a:1, b:2}. */
  String addresses() {
    return endpoints.stream().map(Endpoint::address).distinct().collect(Collectors.joining(", "));
  }

  /** For messages: {@code 127.0.0.1:2379}, or {@code any of a:1, b:2}. */
  @Override
  public String toString() {
    String list = endpoints.stream().map(Endpoint::address).distinct().collect(Collectors.joining(", "));
    return endpoints.size() == 1 ? list : "any of " + list;
  }
}
