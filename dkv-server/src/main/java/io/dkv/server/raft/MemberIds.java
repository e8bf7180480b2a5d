package io.dkv.server.raft;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Member and cluster ids as etcd derives them, so that the same flags give the same ids as an etcd cluster:
 * a member's id is the first 8 bytes of SHA-1 over its sorted peer URLs and the cluster token; the cluster's
 * id the first 8 bytes of SHA-1 over its members' sorted ids.
 */
final class MemberIds {

  private MemberIds() {}

  static long memberId(List<String> peerUrls, String token) {
    List<String> sorted = new ArrayList<>(peerUrls);
    sorted.sort(null);
    return first8(sha1((String.join("", sorted) + token).getBytes(StandardCharsets.UTF_8)));
  }

  static long clusterId(Collection<Long> memberIds) {
    List<Long> sorted = new ArrayList<>(memberIds);
    sorted.sort(Long::compareUnsigned);
    ByteBuffer b = ByteBuffer.allocate(8 * sorted.size());
    sorted.forEach(b::putLong);
    return first8(sha1(b.array()));
  }

  /** Etcd's way of writing an id: lower-case hex without leading zeros. */
  static String hex(long id) {
    return Long.toHexString(id);
  }

  private static long first8(byte[] hash) {
    return ByteBuffer.wrap(hash, 0, 8).getLong();
  }

  private static byte[] sha1(byte[] in) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(in);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-1 in this JVM", e);
    }
  }
}
