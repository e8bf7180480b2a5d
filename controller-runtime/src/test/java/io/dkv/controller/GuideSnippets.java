package io.dkv.controller;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.FencedWrite;
import io.dkv.client.FencingToken;
import io.dkv.client.Versioned;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * The code shown in docs/controller.md, compiled with the module so the guide cannot drift from the API.
 * {@link #jobController} needs DKV's informer implementation (issue 6) to run.
 */
final class GuideSnippets {
  private GuideSnippets() {}

  /** A job as stored under /jobs/ (JSON). */
  record Job(String id, String schedule, boolean enabled) {}

  // [guide:reconciler]
  static Reconciler jobReconciler(SharedIndexInformer<Versioned<Job>> jobs, Scheduler scheduler) {
    return request -> {
      Optional<Job> job = jobs.lister().get(request.key()).map(Versioned::value); // the cache, not the event
      if (job.isEmpty()) {
        scheduler.cancel(request.key());                      // deleted
        return Result.done();
      }
      if (!job.get().enabled()) {
        throw new TerminalException("job " + request.key() + " is disabled");  // not retried
      }
      if (!scheduler.isReady()) {
        return Result.requeueAfter(Duration.ofSeconds(5));    // poll again later
      }
      scheduler.ensure(job.get());                            // an exception retries with backoff
      return Result.done();
    };
  }
  // [/guide:reconciler]

  /** Something a reconciler drives. */
  interface Scheduler {
    boolean isReady();

    void ensure(Job job) throws Exception;

    void cancel(String key);
  }

  // [guide:main]
  static Manager jobController(DkvClient client, Scheduler scheduler) {
    SharedIndexInformer<Versioned<Job>> jobs =       // each object carries its key, revisions, version, lease
        SharedIndexInformer.builder(ListerWatchers.etcd(client, "/jobs/", Codec.json(Job.class))).build();

    Manager manager = Manager.builder()
        .leaderElector(LeaderElector.builder(client, "/leader/job-controller").build())
        .httpAddress(new InetSocketAddress("0.0.0.0", 8081))        // /healthz /readyz /metrics
        .build();
    Controller controller = Controller.builder("jobs")
        .meterRegistry(manager.meterRegistry())
        .forResource(jobs, EventFilter.of((Versioned<Job> j) -> j.value().schedule() != null)) // key: "/jobs/<id>"
        .workers(4)
        .build(jobReconciler(jobs, scheduler));
    manager.add(controller);     // and its informer
    manager.start();             // returns once the informers have synced
    return manager;              // manager.stopped() fails with LeadershipLostException on a loss
  }
  // [/guide:main]

  // [guide:fencing]
  static Reconciler fencedStatusWriter(Manager manager, DkvClient client) {
    return request -> {
      FencingToken token = manager.fencingToken()
          .orElseThrow(() -> new TerminalException("not leading"));
      FencedWrite r = token.put(client, "/status" + request.key(), "scheduled");
      if (!r.applied()) {
        throw new TerminalException("lost leadership; a newer leader owns " + request.key());
      }
      return Result.done();
    };
  }
  // [/guide:fencing]

  // [guide:queue]
  static void workQueueByHand() throws InterruptedException {
    RateLimitingQueue<String> queue = WorkQueue.<String>builder()
        .name("emails")
        .rateLimiter(RateLimiter.maxOf(
            RateLimiter.exponential(Duration.ofMillis(5), Duration.ofSeconds(1000)),
            RateLimiter.tokenBucket(10, 100)))
        .build();
    queue.add("alice@example.com");
    String item;
    while ((item = queue.get()) != null) {     // null once shut down
      try {
        send(item);
        queue.forget(item);                    // its backoff starts over
      } catch (Exception e) {
        queue.addRateLimited(item);            // retried after 5 ms, 10 ms, 20 ms ...
      } finally {
        queue.done(item);                      // re-queued here if it was added meanwhile
      }
    }
  }
  // [/guide:queue]

  private static void send(String address) {}
}
