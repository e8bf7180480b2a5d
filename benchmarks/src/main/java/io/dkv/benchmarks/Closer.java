package io.dkv.benchmarks;

import java.util.ArrayList;
import java.util.List;

/** Closes what a run opened, in reverse order. */
final class Closer implements AutoCloseable {
  private final List<AutoCloseable> open = new ArrayList<>();

  /** Registers {@code c} to be closed (before everything added earlier); returns it. */
  <T extends AutoCloseable> T add(T c) {
    open.add(c);
    return c;
  }

  @Override
  public void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }
}
