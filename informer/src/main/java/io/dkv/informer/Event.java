package io.dkv.informer;

import java.util.Objects;

/**
 * One change delivered by {@link ListerWatcher#watch}.
 *
 * @param type     what happened
 * @param key      the cache key of the object; null for {@link Type#BOOKMARK}
 * @param object   the object after the change; for {@link Type#DELETED} its last known state (may be null
 *                 when the source does not know it); null for {@link Type#BOOKMARK}
 * @param revision the revision of the change; for a bookmark, the revision up to which everything has
 *                 been delivered
 * @param <T>      the object type
 */
public record Event<T>(Type type, String key, T object, long revision) {

  /** Kinds of change, as Kubernetes names them. */
  public enum Type { ADDED, MODIFIED, DELETED, BOOKMARK }

  public Event {
    Objects.requireNonNull(type, "type");
    if (type != Type.BOOKMARK) {
      Objects.requireNonNull(key, "key");
    }
  }

  /** A bookmark: everything up to {@code revision} has been delivered. */
  public static <T> Event<T> bookmark(long revision) {
    return new Event<>(Type.BOOKMARK, null, null, revision);
  }
}
