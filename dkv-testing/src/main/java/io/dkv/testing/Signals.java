package io.dkv.testing;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Signals to processes the tests started, by pid ({@code kill -STOP}, {@code -CONT}). */
final class Signals {

  private Signals() {}

  static void send(long pid, String signal) {
    try {
      Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill -" + signal, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
