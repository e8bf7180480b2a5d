package io.dkv.client;

/**
 * The revision a read or watch asked for is compacted: the server no longer has that history. Read the current
 * state again (a new list) instead of retrying.
 *
 * <pre>{@code
 * try {
 *   page = source.list(revision, continueFrom, 500);
 * } catch (RevisionCompactedException e) {
 *   page = source.list(0, null, 500); // start the list again at the latest revision
 * }
 * }</pre>
 */
public final class RevisionCompactedException extends DkvException {
  private static final long serialVersionUID = 1L;

  private final long compactRevision;

  RevisionCompactedException(String message, long compactRevision, Throwable cause) {
    super(message, cause);
    this.compactRevision = compactRevision;
  }

  /** The revision the server's history is compacted up to (the oldest it still has), or 0 when unknown. */
  public long compactRevision() {
    return compactRevision;
  }
}
