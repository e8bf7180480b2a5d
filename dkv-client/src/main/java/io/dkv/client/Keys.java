package io.dkv.client;

import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;

/** Conversions between the API's String keys and jetcd's byte sequences. */
final class Keys {
  private Keys() {
  }

  static ByteSequence bytes(String key) {
    return ByteSequence.from(key, StandardCharsets.UTF_8);
  }

  static ByteSequence bytes(byte[] value) {
    return ByteSequence.from(value);
  }

  static String string(ByteSequence key) {
    return key.toString(StandardCharsets.UTF_8);
  }
}
