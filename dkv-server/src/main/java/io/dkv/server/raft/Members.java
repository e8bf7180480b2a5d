package io.dkv.server.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.Member;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.rocksdb.WriteBatch;

/**
 * The cluster's membership as etcd keeps it, changed only through the log (so every member holds the same): each
 * member's id, peer URLs and learner flag (from MemberAdd, or for an initial member from its first publication),
 * the name and client URLs it published of itself once it started (etcd's member attributes; a member without
 * a name has not started), and the ids removed, which never come back. Kept in the {@code meta} column family.
 * Written on the applier thread only; read from any thread.
 */
final class Members {

  private static final String PREFIX = "member/";
  private static final String REMOVED = "removed-member/";

  private final Backend backend;
  private final Map<Long, Member> members = new ConcurrentHashMap<>();
  private final Set<Long> removed = ConcurrentHashMap.newKeySet();

  private Members(Backend backend) {
    this.backend = backend;
  }

  static Members load(Backend backend) {
    Members m = new Members(backend);
    m.reload();
    return m;
  }

  /** Reads the membership again from the backend (after another member's state was installed). */
  void reload() {
    members.clear();
    removed.clear();
    backend.scanMeta(PREFIX, (name, value) -> {
      try {
        Member member = Member.parseFrom(value);
        members.put(member.getID(), member);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("corrupt member record " + name, e);
      }
    });
    backend.scanMeta(REMOVED, (name, value) -> removed.add(Long.parseUnsignedLong(
        name.substring(name.lastIndexOf('/') + 1), 16)));
    removed.forEach(members::remove); // a removed member's last record stays on disk, unused
  }

  /**
   * Records what {@code m} published of itself (name, client URLs; for an initial member, its peer URLs too) in
   * {@code batch}; a removed member's publication is ignored, as etcd ignores it.
   */
  void publish(Member m, WriteBatch batch) {
    if (removed.contains(m.getID())) {
      return;
    }
    Member known = members.get(m.getID());
    Member merged = known == null ? m.toBuilder().setIsLearner(false).build()
        : known.toBuilder().setName(m.getName()).clearClientURLs().addAllClientURLs(m.getClientURLsList()).build();
    put(merged, batch);
  }

  /** Records a member added by MemberAdd, not started yet. */
  void add(Member m, WriteBatch batch) {
    put(m, batch);
  }

  /** Removes member {@code id} for good. */
  void remove(long id, WriteBatch batch) {
    members.remove(id);
    removed.add(id);
    backend.putMetaBytes(batch, REMOVED + Long.toHexString(id), new byte[0]);
  }

  /** Gives member {@code id} new peer URLs. */
  void update(long id, List<String> peerUrls, WriteBatch batch) {
    put(members.get(id).toBuilder().clearPeerURLs().addAllPeerURLs(peerUrls).build(), batch);
  }

  /** Makes learner {@code id} a voting member. */
  void promote(long id, WriteBatch batch) {
    put(members.get(id).toBuilder().setIsLearner(false).build(), batch);
  }

  private void put(Member m, WriteBatch batch) {
    backend.putMetaBytes(batch, PREFIX + Long.toHexString(m.getID()), m.toByteArray());
    members.put(m.getID(), m);
  }

  /** Member {@code id} as recorded, or null. */
  Member get(long id) {
    return members.get(id);
  }

  /** Whether {@code id} was removed. */
  boolean isRemoved(long id) {
    return removed.contains(id);
  }

  /** Every recorded member. */
  List<Member> all() {
    return new ArrayList<>(members.values());
  }

  /** Etcd's "started": the member has published its name. */
  static boolean started(Member m) {
    return !m.getName().isEmpty();
  }
}
