package io.dkv.server.alarm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.AlarmMember;
import io.etcd.jetcd.api.AlarmType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

/** Etcd's alarm store: activate, deactivate, get by type, and what is written survives a reopen. */
class AlarmStoreTest {

  @TempDir
  Path dir;

  private static AlarmMember alarm(long member, int type) {
    return AlarmMember.newBuilder().setMemberID(member).setAlarmValue(type).build();
  }

  private static void write(Backend backend, java.util.function.Consumer<WriteBatch> change) {
    try (WriteBatch b = new WriteBatch()) {
      change.accept(b);
      backend.write(b, true);
    }
  }

  @Test
  void activatedAlarmsAreListedByTypeAndActivatingAgainChangesNothing() throws IOException {
    try (Backend backend = Backend.open(dir)) {
      AlarmStore alarms = AlarmStore.load(backend);
      assertEquals(List.of(), alarms.get(AlarmType.NONE_VALUE));
      assertFalse(alarms.isActive(AlarmStore.CORRUPT));
      AlarmMember[] first = new AlarmMember[1];
      write(backend, b -> {
        first[0] = alarms.activate(0x20, AlarmStore.CORRUPT, b);
        alarms.activate(0x10, AlarmStore.NOSPACE, b);
        alarms.activate(0x5, AlarmStore.CORRUPT, b);
      });
      assertEquals(alarm(0x20, AlarmStore.CORRUPT), first[0]);
      write(backend, b -> assertSame(first[0], alarms.activate(0x20, AlarmStore.CORRUPT, b)));
      // NONE lists every alarm, by type and then member id; a type lists its own
      assertEquals(List.of(alarm(0x10, AlarmStore.NOSPACE), alarm(0x5, AlarmStore.CORRUPT),
          alarm(0x20, AlarmStore.CORRUPT)), alarms.get(AlarmType.NONE_VALUE));
      assertEquals(List.of(alarm(0x5, AlarmStore.CORRUPT), alarm(0x20, AlarmStore.CORRUPT)),
          alarms.get(AlarmStore.CORRUPT));
      assertEquals(List.of(alarm(0x10, AlarmStore.NOSPACE)), alarms.get(AlarmStore.NOSPACE));
      assertTrue(alarms.isActive(AlarmStore.CORRUPT));
      assertTrue(alarms.isActive(AlarmStore.NOSPACE));
    }
  }

  @Test
  void deactivatingAnswersTheAlarmOnceAndTheTypeStaysActiveWhileAnotherMemberHasIt() throws IOException {
    try (Backend backend = Backend.open(dir)) {
      AlarmStore alarms = AlarmStore.load(backend);
      write(backend, b -> {
        alarms.activate(1, AlarmStore.CORRUPT, b);
        alarms.activate(2, AlarmStore.CORRUPT, b);
      });
      write(backend, b -> {
        assertEquals(alarm(1, AlarmStore.CORRUPT), alarms.deactivate(1, AlarmStore.CORRUPT, b));
        assertNull(alarms.deactivate(1, AlarmStore.CORRUPT, b), "disarmed already");
        assertNull(alarms.deactivate(2, AlarmStore.NOSPACE, b), "member 2 has no NOSPACE alarm");
      });
      assertTrue(alarms.isActive(AlarmStore.CORRUPT));
      write(backend, b -> alarms.deactivate(2, AlarmStore.CORRUPT, b));
      assertFalse(alarms.isActive(AlarmStore.CORRUPT));
      assertEquals(List.of(), alarms.get(AlarmType.NONE_VALUE));
    }
  }

  @Test
  void theStoredAlarmsSurviveAReopenAndAReload() throws IOException {
    try (Backend backend = Backend.open(dir)) {
      AlarmStore alarms = AlarmStore.load(backend);
      write(backend, b -> {
        alarms.activate(7, AlarmStore.CORRUPT, b);
        alarms.activate(8, AlarmStore.NOSPACE, b);
      });
      write(backend, b -> alarms.deactivate(8, AlarmStore.NOSPACE, b));
    }
    try (Backend backend = Backend.open(dir)) {
      AlarmStore alarms = AlarmStore.load(backend);
      assertEquals(List.of(alarm(7, AlarmStore.CORRUPT)), alarms.get(AlarmType.NONE_VALUE));
      // an alarm written by another store over the same backend (a snapshot installed) shows after a reload
      write(backend, b -> AlarmStore.load(backend).activate(9, AlarmStore.NOSPACE, b));
      assertEquals(1, alarms.get(AlarmType.NONE_VALUE).size());
      alarms.reload();
      assertEquals(List.of(alarm(9, AlarmStore.NOSPACE), alarm(7, AlarmStore.CORRUPT)),
          alarms.get(AlarmType.NONE_VALUE));
    }
  }

  @Test
  void anAlarmWrittenInABatchThatIsNeverWrittenIsGoneAfterAReopen() throws IOException {
    try (Backend backend = Backend.open(dir)) {
      AlarmStore alarms = AlarmStore.load(backend);
      try (WriteBatch b = new WriteBatch()) {
        alarms.activate(7, AlarmStore.CORRUPT, b); // the batch is the log entry's: not written, not applied
      }
    }
    try (Backend backend = Backend.open(dir)) {
      assertEquals(List.of(), AlarmStore.load(backend).get(AlarmType.NONE_VALUE));
    }
  }
}
