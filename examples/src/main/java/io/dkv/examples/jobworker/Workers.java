package io.dkv.examples.jobworker;

/** A set of worker threads taking jobs from a {@link JobQueue}, until {@link #close()}. */
interface Workers extends AutoCloseable {

  /** Starts the workers. */
  void start();

  /** Stops the workers and waits for them. */
  @Override
  void close() throws InterruptedException;
}
