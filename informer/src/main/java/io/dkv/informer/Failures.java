package io.dkv.informer;

import java.util.ArrayList;
import java.util.List;

/** Failures as one line for logs and messages. */
final class Failures {
  private Failures() {}

  /**
   * The messages of {@code t}'s cause chain, outermost first, each once (wrappers that only repeat their cause's
   * text are skipped), like {@code UNAVAILABLE: cannot reach 127.0.0.1:2379: connection refused}; a cause without
   * a message is named by its class.
   */
  static String describe(Throwable t) {
    List<String> parts = new ArrayList<>();
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
