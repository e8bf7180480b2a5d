package io.dkv.server;

import java.util.concurrent.ForkJoinPool;
import org.slf4j.LoggerFactory;

/**
 * The JDK's common fork-join pool, which runs every {@code CompletableFuture.*Async} call given no executor
 * (Ratis makes such calls on its append path). On a machine with two cores its parallelism is one, and then
 * {@code CompletableFuture} starts a new thread for each such task: a follower of a 3-member cluster started a
 * thread per append it received. Asked for before the pool exists, it gets a parallelism of at least two.
 */
final class CommonPool {

  static final String PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  private CommonPool() {
  }

  /** Sets the pool's parallelism to at least two, unless it is set already; warns if the pool is made. */
  static void ensureParallel() {
    if (System.getProperty(PARALLELISM) == null) {
      System.setProperty(PARALLELISM, String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
    }
    if (ForkJoinPool.getCommonPoolParallelism() < 2) {
      LoggerFactory.getLogger(CommonPool.class).warn("the common fork-join pool was created with parallelism {}: "
          + "every CompletableFuture task without an executor starts a thread of its own; start the JVM with "
          + "-D{}=2", ForkJoinPool.getCommonPoolParallelism(), PARALLELISM);
    }
  }
}
