package io.dkv.server.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.dkv.server.alarm.AlarmStore;
import io.dkv.server.lease.Lessor;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.AlarmMember;
import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.AlarmResponse;
import io.etcd.jetcd.api.AlarmType;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The applier's alarm requests, with etcd's answers, and what it refuses while CORRUPT is raised. */
class ApplierAlarmTest {

  @TempDir
  Path dir;

  private Backend backend;
  private MvccStore store;
  private AlarmStore alarms;
  private Applier applier;
  private Lessor leases;
  private long index;

  @BeforeEach
  void open() throws IOException {
    backend = Backend.open(dir);
    store = MvccStore.open(backend);
    alarms = AlarmStore.load(backend);
    leases = Lessor.open(backend, store);
    applier = new Applier(store, leases, alarms);
  }

  @AfterEach
  void close() {
    backend.close();
  }

  /** Applies {@code m} as one log entry (committed whether it failed or not, as the state machine does). */
  private Message apply(Message m) {
    try {
      return applier.apply(m).response();
    } finally {
      store.commit(++index, 1);
    }
  }

  private static AlarmRequest alarm(AlarmRequest.AlarmAction action, long member, int type) {
    return AlarmRequest.newBuilder().setAction(action).setMemberID(member).setAlarmValue(type).build();
  }

  private static AlarmMember member(long member, int type) {
    return AlarmMember.newBuilder().setMemberID(member).setAlarmValue(type).build();
  }

  private static PutRequest put(String k) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8("v")).build();
  }

  @Test
  void activateAnswersTheAlarmEveryTimeDeactivateOnlyWhenItWasRaisedAndNoneIsNeverRaised() {
    AlarmResponse r = (AlarmResponse) apply(alarm(AlarmRequest.AlarmAction.ACTIVATE, 0, AlarmStore.CORRUPT));
    assertEquals(List.of(member(0, AlarmStore.CORRUPT)), r.getAlarmsList());
    r = (AlarmResponse) apply(alarm(AlarmRequest.AlarmAction.ACTIVATE, 0, AlarmStore.CORRUPT));
    assertEquals(List.of(member(0, AlarmStore.CORRUPT)), r.getAlarmsList(), "raised before: answered again");
    r = (AlarmResponse) apply(alarm(AlarmRequest.AlarmAction.ACTIVATE, 5, AlarmType.NONE_VALUE));
    assertEquals(List.of(), r.getAlarmsList(), "etcd 3.5 ignores an ACTIVATE of NONE");
    assertEquals(List.of(member(0, AlarmStore.CORRUPT)), alarms.get(AlarmType.NONE_VALUE));

    r = (AlarmResponse) apply(alarm(AlarmRequest.AlarmAction.DEACTIVATE, 0, AlarmStore.CORRUPT));
    assertEquals(List.of(member(0, AlarmStore.CORRUPT)), r.getAlarmsList());
    r = (AlarmResponse) apply(alarm(AlarmRequest.AlarmAction.DEACTIVATE, 0, AlarmStore.CORRUPT));
    assertEquals(List.of(), r.getAlarmsList());
  }

  @Test
  void whileCorruptEveryWriteFailsAndChangesNothingUntilTheAlarmIsDisarmed() {
    apply(put("a"));
    apply(LeaseGrantRequest.newBuilder().setID(9).setTTL(60).build());
    long rev = store.committedRevision();
    long compacted = store.compactRevision();
    apply(alarm(AlarmRequest.AlarmAction.ACTIVATE, 0, AlarmStore.CORRUPT));
    assertEquals(rev, store.committedRevision(), "an alarm is not a revision");

    List<Message> refused = List.of(put("b"),
        DeleteRangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("a")).build(),
        TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(put("c"))).build(),
        CompactionRequest.newBuilder().setRevision(rev).build(),
        LeaseGrantRequest.newBuilder().setID(10).setTTL(60).build(),
        LeaseRevokeRequest.newBuilder().setID(9).build());
    for (Message m : refused) {
      EtcdException e = assertThrows(EtcdException.class, () -> apply(m), m.getClass().getSimpleName());
      assertEquals(EtcdError.CORRUPT, e.error());
    }
    assertEquals(rev, store.committedRevision());
    assertEquals(compacted, store.compactRevision(), "not compacted");
    assertTrue(leases.exists(9), "not revoked");
    assertFalse(leases.exists(10), "not granted");
    // a NOSPACE alarm (or any other) may still be raised and disarmed
    apply(alarm(AlarmRequest.AlarmAction.ACTIVATE, 3, AlarmStore.NOSPACE));
    apply(alarm(AlarmRequest.AlarmAction.DEACTIVATE, 3, AlarmStore.NOSPACE));

    apply(alarm(AlarmRequest.AlarmAction.DEACTIVATE, 0, AlarmStore.CORRUPT));
    apply(put("b"));
    assertEquals(rev + 1, store.committedRevision());
    apply(LeaseRevokeRequest.newBuilder().setID(9).build());
    assertFalse(leases.exists(9));
  }

  @Test
  void onlyCorruptRefusesWrites() {
    apply(alarm(AlarmRequest.AlarmAction.ACTIVATE, 3, AlarmStore.NOSPACE)); // NOSPACE is a quota's (not built)
    long rev = store.committedRevision();
    apply(put("a"));
    assertEquals(rev + 1, store.committedRevision());
  }
}
