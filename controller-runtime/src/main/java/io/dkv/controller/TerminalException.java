package io.dkv.controller;

/**
 * A failure a retry cannot fix (invalid spec, say): the controller logs and counts it and does not requeue the
 * request; the next change of the object reconciles it again. Like controller-runtime's
 * {@code reconcile.TerminalError}.
 */
public class TerminalException extends RuntimeException {

  public TerminalException(String message) {
    super(message);
  }

  public TerminalException(String message, Throwable cause) {
    super(message, cause);
  }
}
