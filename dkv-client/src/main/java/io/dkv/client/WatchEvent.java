package io.dkv.client;

/**
 * One change seen by a watch.
 *
 * <pre>{@code
 * client.watchPrefix("orders/", Codec.json(Order.class), WatchOptions.defaults(), event -> {
 *   if (event.type() == WatchEvent.Type.DELETE) {
 *     forget(event.key(), event.previousValue());
 *   }
 * });
 * }</pre>
 *
 * @param type          PUT (created or updated) or DELETE
 * @param key           the key that changed
 * @param value         the new value; null for a DELETE
 * @param previousValue the value before the change; null if the key did not exist (or was compacted away)
 * @param revision      the revision of the change
 * @param <T>           the value type
 */
public record WatchEvent<T>(Type type, String key, T value, T previousValue, long revision) {

  /** The kind of change: {@code if (e.type() == WatchEvent.Type.PUT) cache.put(e.key(), e.value());} */
  public enum Type { PUT, DELETE }
}
