package io.dkv.server.linearizability;

import io.dkv.server.linearizability.Op.Output;
import java.util.List;

/**
 * etcd's semantics for one key, as a function from a state and a call to the states the call may leave (none: the
 * call's recorded output is impossible in that state). Deterministic but for what the recorded output leaves open:
 * a write with no known outcome may have happened or not, and a cas on a mod_revision that is not known exactly may
 * have succeeded or not.
 */
final class RegisterModel {

  private RegisterModel() {}

  static List<KeyState> step(KeyState s, Op op) {
    Output o = op.out();
    return switch (op.kind()) {
      case GET -> o == null ? List.of(s) : read(s, o);
      case PUT -> o == null ? List.of(putUnknown(s, op.value())) : putKnown(s, op.value(), o.rev());
      case DELETE -> delete(s, o);
      case CAS_VALUE, CAS_REV -> cas(s, op, o);
    };
  }

  /** A read of {@code o}: legal if it matches the state; it may pin down a revision known only by a bound. */
  private static List<KeyState> read(KeyState s, Output o) {
    if (!s.present()) {
      return o.value() == null ? List.of(s) : List.of();
    }
    if (!s.value().equals(o.value()) || (o.version() > 0 && o.version() != s.version())) {
      return List.of();
    }
    if (o.rev() <= 0) {
      return List.of(s);
    }
    if (s.exact()) {
      return s.rev() == o.rev() ? List.of(s) : List.of();
    }
    return o.rev() > s.rev() ? List.of(new KeyState(s.value(), o.rev(), true, s.version())) : List.of();
  }

  private static long nextVersion(KeyState s) {
    return s.present() ? s.version() + 1 : 1;
  }

  private static KeyState putUnknown(KeyState s, String value) {
    return new KeyState(value, s.rev(), false, nextVersion(s));
  }

  private static List<KeyState> putKnown(KeyState s, String value, long rev) {
    if (rev <= 0) {
      return List.of(putUnknown(s, value));
    }
    return s.allowsNext(rev) ? List.of(new KeyState(value, rev, true, nextVersion(s))) : List.of();
  }

  private static List<KeyState> delete(KeyState s, Output o) {
    if (o == null) {
      return List.of(s.present() ? new KeyState(null, s.rev(), false, 0) : s);
    }
    if (!o.ok()) {
      return s.present() ? List.of() : List.of(s);
    }
    if (!s.present()) {
      return List.of();
    }
    if (o.rev() <= 0) {
      return List.of(new KeyState(null, s.rev(), false, 0));
    }
    return s.allowsNext(o.rev()) ? List.of(new KeyState(null, o.rev(), true, 0)) : List.of();
  }

  private static List<KeyState> cas(KeyState s, Op op, Output o) {
    // which outcomes of the compare this state allows; on success the compared revision becomes exact
    KeyState ifHeld = null;
    boolean mayFail;
    if (op.kind() == Op.Kind.CAS_VALUE) {
      boolean held = s.present() && s.value().equals(op.expectValue());
      ifHeld = held ? s : null;
      mayFail = !held;
    } else if (!s.present()) {
      ifHeld = op.expectRev() == 0 ? s : null;
      mayFail = op.expectRev() != 0;
    } else if (s.exact()) {
      ifHeld = s.rev() == op.expectRev() ? s : null;
      mayFail = ifHeld == null;
    } else {
      boolean possible = op.expectRev() > s.rev();
      ifHeld = possible ? new KeyState(s.value(), op.expectRev(), true, s.version()) : null;
      mayFail = true;
    }
    if (o == null) {
      if (ifHeld == null) {
        return List.of(s);
      }
      KeyState put = putUnknown(ifHeld, op.value());
      return mayFail ? List.of(put, s) : List.of(put);
    }
    if (o.ok()) {
      return ifHeld == null ? List.of() : putKnown(ifHeld, op.value(), o.rev());
    }
    return mayFail ? read(s, o) : List.of();
  }
}
