package io.dkv.server.mvcc;

import io.dkv.server.storage.Backend;
import java.util.Set;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes from storage the history a compaction dropped from the index: every revision at or below
 * {@code rev} that is not kept (the latest revision of each live key). Runs in batches, off the writer
 * thread; its end is recorded durably, and a compaction cut short by a crash is run again at start-up.
 */
public final class Compaction {

  private static final Logger log = LoggerFactory.getLogger(Compaction.class);
  private static final int BATCH = 10_000;

  private final Backend backend;
  private final long rev;
  private final Set<Revision> keep;

  Compaction(Backend backend, long rev, Set<Revision> keep) {
    this.backend = backend;
    this.rev = rev;
    this.keep = keep;
  }

  public long revision() {
    return rev;
  }

  /** Deletes the compacted revisions from storage and records the compaction as finished. */
  public void run() {
    long[] deleted = {0};
    WriteBatch[] batch = {new WriteBatch()};
    try {
      backend.scanKv(Revision.startKey(0), Revision.startKey(rev + 1), (k, v) -> {
        if (!keep.contains(Revision.fromKey(k))) {
          backend.deleteKv(batch[0], k);
          if (++deleted[0] % BATCH == 0) {
            backend.write(batch[0], false);
            batch[0].close();
            batch[0] = new WriteBatch();
          }
        }
        return true;
      });
      backend.putMeta(batch[0], MvccStore.META_FINISHED_COMPACT, rev);
      backend.write(batch[0], true);
    } finally {
      batch[0].close();
    }
    log.info("compacted at revision {}: removed {} revisions", rev, deleted[0]);
  }
}
