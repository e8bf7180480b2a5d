package io.dkv.examples.jobworker;

import io.etcd.jetcd.KeyValue;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop most job systems start with: every worker reads the queue; if it is empty, it sleeps for the poll
 * interval and reads again; otherwise it tries to claim one of the jobs it saw (a random one, so that workers
 * seldom collide) and runs it if it won. The server is read every poll interval by every worker, jobs or not,
 * and a job waits up to a poll interval before anyone looks.
 */
final class PollingWorkers implements Workers {

  private static final Logger log = LoggerFactory.getLogger(PollingWorkers.class);

  private final JobQueue queue;
  private final int workers;
  private final Duration pollInterval;
  private final long workMillis;
  private final List<Thread> threads = new ArrayList<>();
  private final Object pause = new Object();
  private volatile boolean stopped;

  PollingWorkers(JobQueue queue, int workers, Duration pollInterval, long workMillis) {
    this.queue = queue;
    this.workers = workers;
    this.pollInterval = pollInterval;
    this.workMillis = workMillis;
  }

  @Override
  public void start() {
    for (int i = 0; i < workers; i++) {
      String name = "poller-" + i;
      Thread t = new Thread(() -> loop(name), name);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  // region polling-loop
  private void loop(String worker) {
    while (!stopped) {
      try {
        List<KeyValue> pending = queue.pending(16);                 // one read, every time
        if (pending.isEmpty()) {
          pause();                                                  // nothing to do: wait, then ask again
          continue;
        }
        KeyValue job = pending.get(ThreadLocalRandom.current().nextInt(pending.size()));
        String key = job.getKey().toString(StandardCharsets.UTF_8);
        if (queue.claim(key, job.getModRevision(), worker)) {      // a txn: only one worker wins
          queue.run(key, workMillis);
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("{}: {}", worker, e.getMessage());
      }
    }
  }
  // endregion

  /** Waits one poll interval, or less if the workers are closed meanwhile. */
  private void pause() throws InterruptedException {
    synchronized (pause) {
      if (!stopped) {
        pause.wait(pollInterval.toMillis());
      }
    }
  }

  /** Stops the workers once their current step is done (no call is cut off, so every read is complete). */
  @Override
  public void close() throws InterruptedException {
    synchronized (pause) {
      stopped = true;
      pause.notifyAll();
    }
    for (Thread t : threads) {
      t.join();
    }
  }
}
