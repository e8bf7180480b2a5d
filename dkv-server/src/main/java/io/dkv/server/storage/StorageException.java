package io.dkv.server.storage;

/** The storage engine failed; the server cannot go on safely. */
final class StorageException extends RuntimeException {
  StorageException(Exception cause) {
    super("storage failure: " + cause.getMessage(), cause);
  }
}
