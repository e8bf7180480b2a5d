package io.dkv.client;

/**
 * A running watch. Closing it stops delivery and releases the server-side watch.
 *
 * <pre>{@code
 * try (Subscription s = client.watchKey("config", Codec.string(), WatchOptions.withSnapshot(), handler)) {
 *   ...
 * }
 * }</pre>
 */
public interface Subscription extends AutoCloseable {

  /** The revision up to which everything has been delivered to the handler. */
  long revision();

  /** Stops the watch; no handler call starts after this returns. */
  @Override
  void close();
}
