package io.dkv.informer;

import java.util.Set;

/**
 * What {@link SharedIndexInformer#audit()} found when comparing the cache with the source at one revision.
 * Every difference found has been repaired (and handed to handlers) by the time the report is returned.
 *
 * @param revision the revision the source was read at
 * @param missing  keys the source has and the cache lacked
 * @param extra    keys the cache had and the source does not
 * @param stale    keys both have, where the cache held an older revision
 */
public record AuditReport(long revision, Set<String> missing, Set<String> extra, Set<String> stale) {
  public AuditReport {
    missing = Set.copyOf(missing);
    extra = Set.copyOf(extra);
    stale = Set.copyOf(stale);
  }

  /** Whether the cache equalled the source. */
  public boolean clean() {
    return missing.isEmpty() && extra.isEmpty() && stale.isEmpty();
  }
}
