package io.dkv.examples.jobworker;

import io.dkv.client.DkvClient;
import io.dkv.examples.ServerMetrics;
import io.dkv.examples.Target;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Job workers two ways, on the same workload: the polling loop (read the queue every interval) and the
 * watch-driven pool that replaces it (read once, then be told). Both claim jobs with one transaction, so no job
 * runs twice; the example prints, for each, the server reads per second and the job pick-up latency.
 *
 * <pre>
 * java -cp "examples/target/classes:$(cat examples/target/classpath.txt)" io.dkv.examples.Examples job-worker
 * </pre>
 */
@Command(name = "job-worker", mixinStandardHelpOptions = true,
    description = "Polling job workers next to a watch-driven worker pool, on the same workload.")
public final class JobWorkerExample implements Callable<Integer> {

  @Option(names = "--endpoint", description = "etcd-v3 endpoint (default: an embedded dkv-server)")
  String endpoint;

  @Option(names = "--metrics-url", description = "the server's /metrics, to count its reads too (etcd: "
      + "http://127.0.0.1:2379/metrics; default for the embedded server: its own)")
  String metricsUrl;

  @Option(names = "--jobs", description = "jobs per design (default: ${DEFAULT-VALUE})")
  int jobs = 300;

  @Option(names = "--rate", description = "jobs submitted per second (default: ${DEFAULT-VALUE})")
  int rate = 50;

  @Option(names = "--nodes", description = "worker nodes (default: ${DEFAULT-VALUE})")
  int nodes = 3;

  @Option(names = "--workers", description = "worker threads per node (default: ${DEFAULT-VALUE})")
  int workersPerNode = 2;

  @Option(names = "--poll-interval-ms", description = "the polling loop's interval (default: ${DEFAULT-VALUE})")
  long pollMillis = 200;

  @Option(names = "--work-ms", description = "how long one job takes (default: ${DEFAULT-VALUE})")
  long workMillis = 5;

  /**
   * The outcome of both designs.
   *
   * @param polling the polling loop
   * @param watch   the watch-driven pool
   */
  public record Report(ModeResult polling, ModeResult watch) {
  }

  @Override
  public Integer call() throws Exception {
    Report r = run(System.out);
    boolean ok = r.polling().ranTwice() == 0 && r.watch().ranTwice() == 0
        && r.polling().neverRan() == 0 && r.watch().neverRan() == 0;
    return ok ? 0 : 1;
  }

  /** Runs the polling loop, then the watch-driven pool, and prints the comparison to {@code out}. */
  public Report run(PrintStream out) throws InterruptedException {
    if (jobs < 1 || rate < 1 || nodes < 1 || workersPerNode < 1 || pollMillis < 1 || workMillis < 0) {
      throw new IllegalArgumentException("--jobs, --rate, --nodes, --workers and --poll-interval-ms must be positive");
    }
    try (Target target = Target.open(endpoint, metricsUrl); DkvClient client = target.connect()) {
      String base = "examples/job-worker/" + UUID.randomUUID().toString().substring(0, 8) + "/";
      out.printf("job-worker: %d jobs at %d/s, %d nodes x %d workers, against %s%n", jobs, rate, nodes,
          workersPerNode, target);
      JobQueue pq = new JobQueue(client, base + "polling/");
      ModeResult polling = runMode("polling", target, pq,
          new PollingWorkers(pq, nodes * workersPerNode, Duration.ofMillis(pollMillis), workMillis));
      JobQueue wq = new JobQueue(client, base + "watch/");
      ModeResult watch = runMode("watch", target, wq, new WatchWorkerPool(client, wq, nodes, workersPerNode, workMillis));
      print(out, polling, watch);
      return new Report(polling, watch);
    }
  }

  private ModeResult runMode(String mode, Target target, JobQueue queue, Workers workers)
      throws InterruptedException {
    OptionalLong rangesBefore = serverRanges(target);
    workers.start();
    ScheduledExecutorService submitter = Executors.newSingleThreadScheduledExecutor();
    AtomicInteger submitted = new AtomicInteger();
    long start = System.nanoTime();
    try {
      submitter.scheduleAtFixedRate(() -> {
        int n = submitted.getAndIncrement();
        if (n < jobs) {
          queue.submit(String.format("job-%06d", n));
        }
      }, 0, TimeUnit.SECONDS.toNanos(1) / rate, TimeUnit.NANOSECONDS);
      long deadline = start + TimeUnit.SECONDS.toNanos(30 + 2L * jobs / rate);
      while (queue.completed() < jobs && System.nanoTime() < deadline) {
        Thread.sleep(10); // a program waiting for its workers; not a test
      }
    } finally {
      submitter.shutdownNow();
      workers.close();
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    OptionalLong rangesAfter = serverRanges(target);
    long serverReads = rangesBefore.isPresent() && rangesAfter.isPresent()
        ? rangesAfter.getAsLong() - rangesBefore.getAsLong() : -1;
    Map<String, Integer> runs = queue.runs();
    int ranTwice = (int) runs.values().stream().filter(n -> n > 1).count();
    return new ModeResult(mode, jobs, queue.completed(), ranTwice, jobs - runs.size(), queue.doneKeys(),
        queue.reads(), serverReads, elapsed, queue.lostClaims(), queue.pickupMillis(50), queue.pickupMillis(99));
  }

  private static OptionalLong serverRanges(Target target) {
    return target.metricsUrl().map(u -> ServerMetrics.started(u, "Range")).orElse(OptionalLong.empty());
  }

  private void print(PrintStream out, ModeResult polling, ModeResult watch) {
    out.printf("%-28s %14s %14s%n", "", "polling (" + pollMillis + " ms)", "watch-driven");
    row(out, "jobs run / submitted", polling.completed() + "/" + polling.jobs(), watch.completed() + "/" + watch.jobs());
    row(out, "jobs run twice", polling.ranTwice(), watch.ranTwice());
    row(out, "reads sent by the workers", polling.reads(), watch.reads());
    row(out, "reads counted by the server", known(polling.serverReads()), known(watch.serverReads()));
    row(out, "server reads/s", String.format("%.1f", polling.readsPerSecond()),
        String.format("%.1f", watch.readsPerSecond()));
    row(out, "pick-up latency p50 (ms)", String.format("%.1f", polling.pickupP50Millis()),
        String.format("%.1f", watch.pickupP50Millis()));
    row(out, "pick-up latency p99 (ms)", String.format("%.1f", polling.pickupP99Millis()),
        String.format("%.1f", watch.pickupP99Millis()));
    row(out, "claims lost to another worker", polling.lostClaims(), watch.lostClaims());
    row(out, "elapsed (s)", String.format("%.1f", polling.elapsed().toMillis() / 1000.0),
        String.format("%.1f", watch.elapsed().toMillis() / 1000.0));
  }

  private static String known(long n) {
    return n < 0 ? "(no metrics)" : Long.toString(n);
  }

  private static void row(PrintStream out, String label, Object polling, Object watch) {
    out.printf("%-28s %14s %14s%n", label, polling, watch);
  }
}
