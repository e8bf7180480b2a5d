package io.dkv.client;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import javax.net.ssl.SSLException;

/** Short, human words for why a connection to a server failed, found in a cause chain. */
final class Failures {
  private Failures() {}

  /**
   * What went wrong while connecting, like {@code connection refused}, {@code unknown host},
   * {@code connection timed out} or {@code TLS handshake failed: <detail>}; null when no cause in the chain is a
   * connection failure.
   */
  static String connectionFailure(Throwable t, boolean tls) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      String m = String.valueOf(c.getMessage());
      String type = c.getClass().getName();
      if (c instanceof UnknownHostException || c instanceof UnresolvedAddressException) {
        return "unknown host";
      }
      if (type.endsWith("ConnectTimeoutException") || c instanceof SocketTimeoutException) {
        return "connection timed out";
      }
      if (c instanceof NoRouteToHostException) {
        return "no route to host";
      }
      if (c instanceof ConnectException) {
        return m.toLowerCase(java.util.Locale.ROOT).contains("refused") ? "connection refused"
            : "cannot connect (" + m + ")";
      }
      if (type.endsWith("NotSslRecordException")) {
        return "TLS handshake failed: the server answered without TLS (does it serve plain text? then use http://)";
      }
      if (c instanceof SSLException) {
        return "TLS handshake failed (" + m + ")";
      }
    }
    if (tls && t != null && String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT)
        .contains("negotiation")) {
      return "TLS handshake failed (" + t.getMessage() + "; is the server serving TLS?)";
    }
    return null;
  }
}
