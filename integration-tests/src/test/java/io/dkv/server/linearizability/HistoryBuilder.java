package io.dkv.server.linearizability;

import io.dkv.server.linearizability.Op.Kind;
import io.dkv.server.linearizability.Op.Output;
import java.util.ArrayList;
import java.util.List;

/** Writes histories by hand for the checker's tests: each call on key "k" unless told, times in arbitrary units. */
final class HistoryBuilder {
  static final long NONE = Op.NO_RESPONSE;

  private final List<Op> ops = new ArrayList<>();
  private String key = "k";

  HistoryBuilder on(String k) {
    this.key = k;
    return this;
  }

  HistoryBuilder get(int client, long invoke, long response, String value, long rev, long version) {
    return add(client, Kind.GET, null, null, 0, invoke, response, Output.read(value, rev, version));
  }

  HistoryBuilder getAbsent(int client, long invoke, long response) {
    return add(client, Kind.GET, null, null, 0, invoke, response, Output.read(null, 0, 0));
  }

  HistoryBuilder put(int client, long invoke, long response, String value, long rev) {
    return add(client, Kind.PUT, value, null, 0, invoke, response, Output.wrote(rev));
  }

  /** A put whose outcome the client never learnt. */
  HistoryBuilder putUnknown(int client, long invoke, String value) {
    return add(client, Kind.PUT, value, null, 0, invoke, NONE, null);
  }

  HistoryBuilder casValue(int client, long invoke, long response, String expect, String value, Output out) {
    return add(client, Kind.CAS_VALUE, value, expect, 0, invoke, response, out);
  }

  HistoryBuilder casRev(int client, long invoke, long response, long expectRev, String value, Output out) {
    return add(client, Kind.CAS_REV, value, null, expectRev, invoke, response, out);
  }

  HistoryBuilder delete(int client, long invoke, long response, boolean deleted, long rev) {
    return add(client, Kind.DELETE, null, null, 0, invoke, response, Output.deleted(deleted, rev));
  }

  HistoryBuilder deleteUnknown(int client, long invoke) {
    return add(client, Kind.DELETE, null, null, 0, invoke, NONE, null);
  }

  HistoryBuilder add(int client, Kind kind, String value, String expectValue, long expectRev, long invoke,
      long response, Output out) {
    ops.add(new Op(ops.size(), client, key, kind, value, expectValue, expectRev, invoke, response, out));
    return this;
  }

  List<Op> build() {
    return List.copyOf(ops);
  }
}
