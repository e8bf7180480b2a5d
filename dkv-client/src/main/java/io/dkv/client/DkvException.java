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
}
