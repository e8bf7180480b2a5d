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
}
