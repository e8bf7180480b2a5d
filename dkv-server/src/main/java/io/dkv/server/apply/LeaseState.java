package io.dkv.server.apply;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Event;
import java.util.List;

/**
 * The leases as the applier sees them: which exist, their keys, and how grants and revokes change them.
 * Every method runs on the writer thread and is deterministic: the same calls in the same order give the
 * same leases. Grants and revokes are written into the store's next commit batch.
 */
public interface LeaseState extends KvOps.LeaseCheck {

  /**
   * Creates lease {@code id} with {@code ttl} seconds, raised to the minimum TTL; returns the TTL granted.
   *
   * @throws io.dkv.server.mvcc.EtcdException LEASE_EXISTS or LEASE_TTL_TOO_LARGE
   */
  long grant(long id, long ttl);

  /**
   * The keys attached to lease {@code id}, in byte order.
   *
   * @throws io.dkv.server.mvcc.EtcdException LEASE_NOT_FOUND
   */
  List<ByteString> keysOf(long id);

  /** Removes lease {@code id} (its keys must already be deleted). */
  void remove(long id);

  /** Attaches and detaches keys after writes: a PUT attaches its key to its lease, a DELETE detaches it. */
  void written(List<Event> events);

  /** No leases at all: every put naming a lease fails. */
  LeaseState NONE = new LeaseState() {
    @Override
    public boolean exists(long lease) {
      return false;
    }

    @Override
    public long grant(long id, long ttl) {
      throw new UnsupportedOperationException("no lessor");
    }

    @Override
    public List<ByteString> keysOf(long id) {
      throw io.dkv.server.mvcc.EtcdError.LEASE_NOT_FOUND.exception();
    }

    @Override
    public void remove(long id) {}

    @Override
    public void written(List<Event> events) {}
  };
}
