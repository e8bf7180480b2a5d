package io.dkv.server;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resources of a server, closed in the reverse order of their registration: on {@link #close()} (a
 * server stopping) and when a start fails halfway ({@link #closeAfter}), so that nothing stays open — no
 * listener, no thread, no RocksDB lock. Not thread-safe: one thread registers, one closes.
 */
final class Closer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Closer.class);

  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  /** Registers {@code resource} to be closed before everything registered earlier; returns it. */
  <T extends AutoCloseable> T register(T resource) {
    resources.push(resource);
    return resource;
  }

  /**
   * Closes everything after a failed start: every resource is closed even if some fail; their failures
   * are added to {@code failure} as suppressed. Returns {@code failure}, to rethrow.
   */
  <T extends Throwable> T closeAfter(T failure) {
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Exception | Error e) {
        failure.addSuppressed(e);
      }
    }
    return failure;
  }

  /** Closes everything; a resource failing to close is logged and the others still close. */
  @Override
  public void close() {
    while (!resources.isEmpty()) {
      AutoCloseable r = resources.pop();
      try {
        r.close();
      } catch (Exception e) {
        log.warn("closing {} failed", r, e);
      }
    }
  }
}
