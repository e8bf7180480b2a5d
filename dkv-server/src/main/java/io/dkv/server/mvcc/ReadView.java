package io.dkv.server.mvcc;

import com.google.protobuf.ByteString;

/** Reads of the keyspace, all at one store revision. */
public interface ReadView {

  /** The store revision the reads see. */
  long rev();

  /** Revisions below this are compacted. */
  long firstRev();

  /** The keys in [key, end) as of {@code atRev} (0: {@link #rev()}); see {@link MvccStore#range}. */
  RangeResult range(ByteString key, ByteString end, long limit, long atRev, boolean countOnly);
}
