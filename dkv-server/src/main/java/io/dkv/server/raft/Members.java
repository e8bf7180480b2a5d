package io.dkv.server.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.Member;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.rocksdb.WriteBatch;

/**
 * What each member published of itself through the log once it started (its name and client URLs, as etcd's
 * member attributes), kept in the {@code meta} column family so that every member lists every other's.
 */
final class Members {

  private static final String PREFIX = "member/";

  private final Backend backend;
  private final Map<Long, Member> published = new ConcurrentHashMap<>();

  private Members(Backend backend) {
    this.backend = backend;
  }

  static Members load(Backend backend) {
    Members m = new Members(backend);
    m.reload();
    return m;
  }

  /** Reads the published members again from the backend (after another member's state was installed). */
  void reload() {
    published.clear();
    backend.scanMeta(PREFIX, (name, value) -> {
      try {
        Member member = Member.parseFrom(value);
        published.put(member.getID(), member);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("corrupt member record " + name, e);
      }
    });
  }

  /** Records {@code m}'s attributes in {@code batch} (applier thread). */
  void publish(Member m, WriteBatch batch) {
    backend.putMetaBytes(batch, PREFIX + Long.toHexString(m.getID()), m.toByteArray());
    published.put(m.getID(), m);
  }

  /** What member {@code id} published, or null if it has not yet. */
  Member published(long id) {
    return published.get(id);
  }
}
