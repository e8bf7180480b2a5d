package io.dkv.server.mvcc;

import com.google.protobuf.ByteString;

/** Key range helpers with etcd's meaning. */
public final class Keys {

  private Keys() {}

  /** Etcd's prefix range end: the prefix with its last byte below 0xff incremented; "\0" (every key) if none is. */
  public static ByteString prefixEnd(ByteString prefix) {
    byte[] b = prefix.toByteArray();
    for (int i = b.length - 1; i >= 0; i--) {
      if ((b[i] & 0xff) < 0xff) {
        b[i]++;
        return ByteString.copyFrom(b, 0, i + 1);
      }
    }
    return ByteString.copyFrom(new byte[] {0});
  }

  /** Whether {@code end} is etcd's "\0": the range runs from its key to the end of the keyspace. */
  public static boolean isToEnd(ByteString end) {
    return end.size() == 1 && end.byteAt(0) == 0;
  }

  /** Whether etcd's range [key, end) holds {@code k}: an empty end is the key alone, "\0" every key from it. */
  public static boolean inRange(ByteString key, ByteString end, ByteString k) {
    if (end.isEmpty()) {
      return k.equals(key);
    }
    var order = ByteString.unsignedLexicographicalComparator();
    return order.compare(k, key) >= 0 && (isToEnd(end) || order.compare(k, end) < 0);
  }
}
