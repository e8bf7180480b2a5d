package io.dkv.server.mvcc;

import java.nio.ByteBuffer;

/**
 * A point in the store's history: every write transaction gets the next {@code main} revision, and each
 * change inside it the next {@code sub} revision, starting at 0.
 *
 * <p>The storage encoding is etcd's: 8 bytes big-endian main, {@code '_'}, 8 bytes big-endian sub, and a
 * trailing {@code 't'} for a tombstone (a delete). Encoded revisions sort in revision order.
 */
record Revision(long main, long sub) implements Comparable<Revision> {

  static final int ENCODED_SIZE = 17;
  private static final byte TOMBSTONE_MARK = 't';

  @Override
  public int compareTo(Revision o) {
    int c = Long.compare(main, o.main);
    return c != 0 ? c : Long.compare(sub, o.sub);
  }

  /** The storage key of this revision; {@code tombstone} appends etcd's deletion mark. */
  public byte[] toKey(boolean tombstone) {
    ByteBuffer b = ByteBuffer.allocate(tombstone ? ENCODED_SIZE + 1 : ENCODED_SIZE);
    b.putLong(main).put((byte) '_').putLong(sub);
    if (tombstone) {
      b.put(TOMBSTONE_MARK);
    }
    return b.array();
  }

  /** The storage key of the first revision of {@code main}: a lower bound for range scans. */
  public static byte[] startKey(long main) {
    return new Revision(main, 0).toKey(false);
  }

  public static Revision fromKey(byte[] key) {
    ByteBuffer b = ByteBuffer.wrap(key);
    long main = b.getLong();
    b.get();
    return new Revision(main, b.getLong());
  }

  public static boolean isTombstone(byte[] key) {
    return key.length == ENCODED_SIZE + 1 && key[ENCODED_SIZE] == TOMBSTONE_MARK;
  }
}
