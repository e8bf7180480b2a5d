package io.dkv.controller;

/**
 * Completes a {@link Manager#stopped()} future when the manager lost its leadership: its controllers were stopped
 * at once. As with controller-runtime, the usual reaction is to exit the process and let it restart as a
 * candidate.
 */
public class LeadershipLostException extends RuntimeException {

  public LeadershipLostException(String message) {
    super(message);
  }
}
