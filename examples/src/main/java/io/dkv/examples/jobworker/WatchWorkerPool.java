package io.dkv.examples.jobworker;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Subscription;
import io.dkv.client.Versioned;
import io.dkv.client.WatchEvent;
import io.dkv.client.WatchHandler;
import io.dkv.client.WatchOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watch-driven replacement: each node reads the queue once (the watch's snapshot) and is then told of every
 * new job by its watch; the node's worker threads take jobs from a local queue and claim them with the same
 * transaction as the polling loop. Nodes race for every job and exactly one wins; idle nodes send nothing to
 * the server, and a job is picked up as soon as its event arrives.
 */
final class WatchWorkerPool implements Workers {

  private static final Logger log = LoggerFactory.getLogger(WatchWorkerPool.class);

  private final DkvClient client;
  private final JobQueue queue;
  private final int nodes;
  private final int workersPerNode;
  private final long workMillis;
  private final List<Subscription> subscriptions = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;

  WatchWorkerPool(DkvClient client, JobQueue queue, int nodes, int workersPerNode, long workMillis) {
    this.client = client;
    this.queue = queue;
    this.nodes = nodes;
    this.workersPerNode = workersPerNode;
    this.workMillis = workMillis;
  }

  /** A job a node was told about: its key and the revision the claim compares against. */
  private record Candidate(String key, long modRevision) {
  }

  @Override
  public void start() {
    for (int n = 0; n < nodes; n++) {
      BlockingQueue<Candidate> local = new LinkedBlockingQueue<>();
      subscriptions.add(watchJobs(local));
      queue.countRead(); // the watch's initial snapshot is one range read
      for (int w = 0; w < workersPerNode; w++) {
        String name = "node-" + n + "-worker-" + w;
        Thread t = new Thread(() -> work(name, local), name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }
  }

  // region watch-pool
  private Subscription watchJobs(BlockingQueue<Candidate> local) {
    return client.watchPrefix(queue.queuePrefix(), Codec.string(), WatchOptions.withSnapshot(),
        new WatchHandler<>() {
          @Override
          public void onSnapshot(List<Versioned<String>> jobs, long revision) {   // the jobs already waiting
            jobs.forEach(j -> local.add(new Candidate(j.key(), j.modRevision())));
          }

          @Override
          public void onEvent(WatchEvent<String> e) {                           // a new job: no read needed
            if (e.type() == WatchEvent.Type.PUT) {
              local.add(new Candidate(e.key(), e.revision()));
            }
          }
        });
  }

  private void work(String worker, BlockingQueue<Candidate> local) {
    while (!stopped) {
      Candidate job;
      try {
        job = local.take();                                           // blocks without asking the server
      } catch (InterruptedException e) {
        return;
      }
      try {
        if (queue.claim(job.key(), job.modRevision(), worker)) {      // the same txn: only one node wins
          queue.run(job.key(), workMillis);
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {                                  // unknown outcome: claim again; if the
        if (stopped) {                                                // first one won, this one fails safely
          return;
        }
        log.warn("{}: {}", worker, e.getMessage());
        local.add(job);
      }
    }
  }
  // endregion

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    subscriptions.forEach(Subscription::close);
    for (Thread t : threads) {
      t.interrupt();
      t.join();
    }
  }
}
