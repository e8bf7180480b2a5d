package io.dkv.server.linearizability;

/**
 * One call of the workload on one key, as a client saw it: when it was invoked and when its response came
 * ({@link System#nanoTime()}), what it asked and what it got.
 *
 * <p>{@code out == null} means the client never learnt the outcome (timeout, lost connection, any error): the call
 * may have taken effect at any point after its invocation, or never. A call whose outcome was learnt later (from
 * the watch history) has an {@code out} but {@link #NO_RESPONSE}: it did take effect, at some point after its
 * invocation.
 *
 * @param kind what the call does; {@code CAS_VALUE} / {@code CAS_REV} are a txn comparing the key's value /
 *     mod_revision, then a put of {@code value}, else a get of the key
 * @param value the value a put or cas writes
 * @param expectValue the value a {@code CAS_VALUE} compares with
 * @param expectRev the mod_revision a {@code CAS_REV} compares with (0: the key is absent)
 */
record Op(int id, int client, String key, Kind kind, String value, String expectValue, long expectRev,
    long invoke, long response, Output out) {

  /** The response time of a call that got no response. */
  static final long NO_RESPONSE = Long.MAX_VALUE;

  enum Kind { GET, PUT, CAS_VALUE, CAS_REV, DELETE }

  /**
   * What a call returned. A get, or a failed cas (its else branch): {@code value} (null: absent), the key's
   * {@code rev} (mod_revision) and {@code version}; 0 means not recorded. A put or successful cas: {@code ok} and
   * {@code rev}, the revision it created. A delete: {@code ok} if it deleted the key, then {@code rev} the revision
   * of the deletion.
   */
  record Output(boolean ok, String value, long rev, long version) {
    static Output read(String value, long rev, long version) {
      return new Output(true, value, rev, version);
    }

    static Output wrote(long rev) {
      return new Output(true, null, rev, 0);
    }

    static Output casFailed(String value, long rev, long version) {
      return new Output(false, value, rev, version);
    }

    static Output deleted(boolean deleted, long rev) {
      return new Output(deleted, null, rev, 0);
    }
  }

  boolean isRead() {
    return kind == Kind.GET;
  }

  boolean isCas() {
    return kind == Kind.CAS_VALUE || kind == Kind.CAS_REV;
  }

  /** The same call with its outcome, but still no response time (learnt after the fact). */
  Op withLearntOutput(Output learnt) {
    return new Op(id, client, key, kind, value, expectValue, expectRev, invoke, NO_RESPONSE, learnt);
  }

  /** A line for a report, times relative to {@code t0}. */
  String describe(long t0) {
    String call = switch (kind) {
      case GET -> "get";
      case PUT -> "put " + value;
      case DELETE -> "delete";
      case CAS_VALUE -> "cas(value=" + expectValue + ") put " + value;
      case CAS_REV -> "cas(mod_rev=" + expectRev + ") put " + value;
    };
    String result;
    if (out == null) {
      result = "unknown";
    } else {
      result = switch (kind) {
        case GET -> read(out);
        case PUT -> "ok rev " + out.rev();
        case DELETE -> out.ok() ? "deleted rev " + out.rev() : "nothing deleted";
        case CAS_VALUE, CAS_REV -> out.ok() ? "succeeded rev " + out.rev() : "failed, saw " + read(out);
      };
    }
    String end = response == NO_RESPONSE ? "no response" : ms(response - t0);
    return "#" + id + " c" + client + " " + call + " -> " + result + " [" + ms(invoke - t0) + " .. " + end + "]";
  }

  private static String read(Output o) {
    return o.value() == null ? "absent" : o.value() + " (mod_rev " + o.rev() + ", version " + o.version() + ")";
  }

  private static String ms(long nanos) {
    return String.format("%+.3fs", nanos / 1e9);
  }
}
