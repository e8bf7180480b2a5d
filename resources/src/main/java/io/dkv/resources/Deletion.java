package io.dkv.resources;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dkv.resources.ObjectStore.Outcome;
import io.dkv.resources.ObjectStore.Stored;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * How an object is deleted, as Kubernetes does it: an object with finalizers is only marked (deletionTimestamp,
 * and generation + 1) and kept; one without is removed. Each is one transaction guarded by the mod revision read.
 */
final class Deletion {
  private Deletion() {
  }

  /**
   * Deletes or marks {@code current} if it is still at its mod revision. An object already marked is left alone
   * (a success that writes nothing).
   */
  static Outcome deleteOrMark(ObjectStore store, Stored current, Clock clock) {
    ObjectNode meta = Json.metadata(current.tree());
    if (!Json.hasFinalizers(meta)) {
      return store.delete(current.key(), current.modRevision());
    }
    if (meta.hasNonNull("deletionTimestamp")) {
      return new Outcome(true, current.modRevision(), Optional.of(current));
    }
    ObjectNode next = current.tree().deepCopy();
    ObjectNode nextMeta = Json.metadata(next);
    nextMeta.put("deletionTimestamp", timestamp(clock));
    nextMeta.put("deletionGracePeriodSeconds", 0L);
    nextMeta.put("generation", meta.path("generation").asLong(0) + 1);
    return store.put(current.key(), current.modRevision(), next);
  }

  /** Now, as Kubernetes writes timestamps (RFC 3339, seconds, UTC). */
  static String timestamp(Clock clock) {
    return DateTimeFormatter.ISO_INSTANT.format(clock.instant().truncatedTo(ChronoUnit.SECONDS));
  }
}
