package io.dkv.server.linearizability;

/**
 * The state of one key in the register model: its value (null: absent), mod_revision and version as etcd reports
 * them. {@code exact == false} means the revision is not known, only that it is greater than {@code rev} (after a
 * write whose outcome the client never learnt).
 */
record KeyState(String value, long rev, boolean exact, long version) {

  /** A key never written. */
  static final KeyState INITIAL = new KeyState(null, 0, true, 0);

  boolean present() {
    return value != null;
  }

  /** Whether a write creating revision {@code r} may follow this state (revisions of a key only grow). */
  boolean allowsNext(long r) {
    return exact ? r > rev : r > rev + 1;
  }

  @Override
  public String toString() {
    if (!present()) {
      return "absent (last change " + (exact ? "at " : "after ") + rev + ")";
    }
    return value + " (mod_rev " + (exact ? "" : "> ") + rev + ", version " + version + ")";
  }
}
