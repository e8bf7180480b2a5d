package io.dkv.client;

/**
 * A request to the server failed, timed out, or was interrupted. The cause carries jetcd's or gRPC's error.
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
