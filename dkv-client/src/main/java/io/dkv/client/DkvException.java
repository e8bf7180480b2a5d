package io.dkv.client;

/**
 * A request to the server failed, timed out, or was interrupted. The cause carries jetcd's or gRPC's error. The
 * message says what failed: for a request that reached no server, the endpoints and why
 * ({@code UNAVAILABLE: cannot reach 127.0.0.1:2379: connection refused}, {@code unknown host},
 * {@code connection timed out}, {@code TLS handshake failed (...)}); for a connection lost during the request,
 * {@code connection to 127.0.0.1:2379 failed: ...}; for a server that did not answer in time,
 * {@code no answer from 127.0.0.1:2379 within 30 s}; otherwise the server's own error, as etcd words it.
 *
 * <pre>{@code
 * try {
 *   client.put("k", "v");
 * } catch (DkvException e) {
 *   log.warn("write failed", e);
 * }
 * }</pre>
 */
public class DkvException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DkvException(String message, Throwable cause) {
    super(message, cause);
  }

  public DkvException(String message) {
    super(message);
  }

  /**
   * The messages of {@code t}'s cause chain as one line for logs and error messages, outermost first, each once
   * (wrappers that only repeat their cause's text are skipped), like
   * {@code UNAVAILABLE: cannot reach 127.0.0.1:2379: connection refused}; a cause without a message is named by its
   * class.
   */
  public static String describe(Throwable t) {
    java.util.List<String> parts = new java.util.ArrayList<>();
    for (Throwable c = t; c != null && parts.size() < 4; c = c.getCause() == c ? null : c.getCause()) {
      String m = c.getMessage();
      String text = m == null || m.isBlank() ? c.getClass().getSimpleName() : m;
      if (parts.stream().noneMatch(p -> p.contains(text))) {
        parts.add(text);
      }
    }
    return String.join("; caused by ", parts);
  }
}
