package io.dkv.server.alarm;

import com.google.protobuf.InvalidProtocolBufferException;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.AlarmMember;
import io.etcd.jetcd.api.AlarmType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's alarms, as etcd's {@code v3alarm.AlarmStore}: a set of (member id, alarm type), changed only by
 * the applier (so every member holds the same), each change written in the batch of the log entry that made it,
 * in the {@code meta} column family; it thus survives restarts and travels in snapshots. Read from any thread.
 *
 * <p>It knows nothing of what an alarm means: which requests an active alarm refuses is the applier's
 * ({@link Applier}); raising NOSPACE when the backend is full is a quota's.
 */
public final class AlarmStore {

  /** Etcd's AlarmType NOSPACE. */
  public static final int NOSPACE = 1;
  /** Etcd's AlarmType CORRUPT (etcd 3.3 on; jetcd's older proto has no name for it). */
  public static final int CORRUPT = 2;

  private static final Logger log = LoggerFactory.getLogger(AlarmStore.class);
  private static final String PREFIX = "alarm/";

  private final Backend backend;
  /** By stored name: type, then member id, in order. */
  private final Map<String, AlarmMember> alarms = new ConcurrentSkipListMap<>();

  private AlarmStore(Backend backend) {
    this.backend = backend;
  }

  /** The alarms stored in {@code backend}. */
  public static AlarmStore load(Backend backend) {
    AlarmStore s = new AlarmStore(backend);
    s.reload();
    return s;
  }

  /** Reads the alarms again from the backend (after another member's state was installed). */
  public void reload() {
    alarms.clear();
    backend.scanMeta(PREFIX, (name, value) -> {
      try {
        alarms.put(name, AlarmMember.parseFrom(value));
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("corrupt alarm record " + name, e);
      }
    });
  }

  /**
   * Raises alarm {@code type} for member {@code memberId} in {@code batch}; returns it, or the same alarm
   * already raised (as etcd: activating twice changes nothing).
   */
  public AlarmMember activate(long memberId, int type, WriteBatch batch) {
    String name = name(memberId, type);
    AlarmMember known = alarms.get(name);
    if (known != null) {
      return known;
    }
    AlarmMember m = AlarmMember.newBuilder().setMemberID(memberId).setAlarmValue(type).build();
    backend.putMetaBytes(batch, name, m.toByteArray());
    alarms.put(name, m);
    log.warn("alarm {} raised for member {}", typeName(type), Long.toHexString(memberId));
    return m;
  }

  /** Disarms alarm {@code type} of member {@code memberId} in {@code batch}; returns it, or null if not raised. */
  public AlarmMember deactivate(long memberId, int type, WriteBatch batch) {
    String name = name(memberId, type);
    AlarmMember m = alarms.remove(name);
    if (m != null) {
      backend.deleteMeta(batch, name);
      log.warn("alarm {} of member {} disarmed", typeName(type), Long.toHexString(memberId));
    }
    return m;
  }

  /** The alarms of {@code type} raised, or with {@link AlarmType#NONE} every alarm, by type then member id. */
  public List<AlarmMember> get(int type) {
    return alarms.values().stream()
        .filter(m -> type == AlarmType.NONE_VALUE || m.getAlarmValue() == type)
        .toList();
  }

  /** Whether any member has alarm {@code type} raised. */
  public boolean isActive(int type) {
    return alarms.values().stream().anyMatch(m -> m.getAlarmValue() == type);
  }

  private static String name(long memberId, int type) {
    return String.format("%s%08x/%016x", PREFIX, type, memberId);
  }

  private static String typeName(int type) {
    return switch (type) {
      case AlarmType.NONE_VALUE -> "NONE";
      case NOSPACE -> "NOSPACE";
      case CORRUPT -> "CORRUPT";
      default -> Integer.toString(type);
    };
  }
}
