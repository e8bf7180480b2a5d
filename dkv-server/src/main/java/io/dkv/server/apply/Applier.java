package io.dkv.server.apply;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.dkv.server.alarm.AlarmStore;
import io.dkv.server.mvcc.Compaction;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.MvccStore;
import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.AlarmResponse;
import io.etcd.jetcd.api.AlarmType;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.CompactionResponse;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrantResponse;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseRevokeResponse;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.TxnRequest;

/**
 * The state machine: applies one write request to the store, deterministically (no clock, no randomness),
 * so the same requests in the same order always give the same state. Single-threaded.
 */
public final class Applier {

  /** A request's response, and the storage compaction it scheduled, if any. */
  public record Applied(Message response, Compaction compaction, boolean waitForCompaction) {}

  /** What etcd's applierV3Corrupt refuses (its Range is never called: reads do not go through the applier). */
  private static final java.util.Set<Class<? extends Message>> REFUSED_WHILE_CORRUPT = java.util.Set.of(
      PutRequest.class, DeleteRangeRequest.class, TxnRequest.class, CompactionRequest.class,
      LeaseGrantRequest.class, LeaseRevokeRequest.class);

  private final MvccStore store;
  private final LeaseState leases;
  private final AlarmStore alarms;

  public Applier(MvccStore store, LeaseState leases, AlarmStore alarms) {
    this.store = store;
    this.leases = leases;
    this.alarms = alarms;
  }

  /**
   * Applies {@code request}: an alarm request changes the {@link AlarmStore}; while CORRUPT is raised, every
   * request etcd's corrupt applier refuses (Put, DeleteRange, Txn, Compaction, LeaseGrant, LeaseRevoke) fails
   * with {@link EtcdError#CORRUPT}, and changes nothing.
   */
  public Applied apply(Message request) {
    if (request instanceof AlarmRequest a) {
      return new Applied(alarm(a), null, false);
    }
    if (alarms.isActive(AlarmStore.CORRUPT) && REFUSED_WHILE_CORRUPT.contains(request.getClass())) {
      throw EtcdError.CORRUPT.exception();
    }
    int before = store.uncommittedEventCount();
    Applied applied = applyRequest(request);
    if (store.uncommittedEventCount() > before) {
      leases.written(store.uncommittedEvents(before));
    }
    if (request instanceof LeaseRevokeRequest r) {
      leases.remove(r.getID());
    }
    return applied;
  }

  /**
   * Etcd's alarm apply: ACTIVATE (of a type other than NONE) answers the alarm, raised now or before;
   * DEACTIVATE the alarm disarmed, none if it was not raised. GET is a read, not applied.
   */
  private AlarmResponse alarm(AlarmRequest a) {
    AlarmResponse.Builder resp = AlarmResponse.newBuilder();
    switch (a.getAction()) {
      case ACTIVATE -> {
        if (a.getAlarmValue() != AlarmType.NONE_VALUE) {
          resp.addAlarms(alarms.activate(a.getMemberID(), a.getAlarmValue(), store.batch()));
        }
      }
      case DEACTIVATE -> {
        var m = alarms.deactivate(a.getMemberID(), a.getAlarmValue(), store.batch());
        if (m != null) {
          resp.addAlarms(m);
        }
      }
      default -> resp.addAllAlarms(alarms.get(a.getAlarmValue()));
    }
    return resp.build();
  }

  private Applied applyRequest(Message request) {
    if (request instanceof LeaseGrantRequest g) {
      long ttl = leases.grant(g.getID(), g.getTTL());
      return new Applied(LeaseGrantResponse.newBuilder().setHeader(KvOps.header(store.currentRevision()))
          .setID(g.getID()).setTTL(ttl).build(), null, false);
    }
    if (request instanceof CompactionRequest c) {
      Compaction compaction = store.compact(c.getRevision());
      CompactionResponse resp = CompactionResponse.newBuilder().setHeader(KvOps.header(store.currentRevision())).build();
      return new Applied(resp, compaction, c.getPhysical());
    }
    MvccStore.WriteTxn txn = store.write();
    try {
      Message resp;
      if (request instanceof PutRequest p) {
        if (p.getLease() != 0 && !leases.exists(p.getLease())) {
          throw EtcdError.LEASE_NOT_FOUND.exception();
        }
        resp = KvOps.put(txn, p);
      } else if (request instanceof DeleteRangeRequest d) {
        resp = KvOps.deleteRange(txn, d);
      } else if (request instanceof LeaseRevokeRequest r) {
        // all the lease's keys go in one revision, in key order, as etcd
        for (ByteString key : leases.keysOf(r.getID())) {
          txn.deleteRange(key, ByteString.EMPTY);
        }
        resp = LeaseRevokeResponse.newBuilder().setHeader(KvOps.header(txn.rev())).build();
      } else if (request instanceof TxnRequest t) {
        resp = KvOps.txn(txn, t, leases);
      } else {
        throw new IllegalArgumentException("not a write request: " + request.getClass().getSimpleName());
      }
      return new Applied(resp, null, false);
    } finally {
      txn.end();
    }
  }
}
