package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.FencingToken;
import io.dkv.client.Versioned;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import io.dkv.testing.ServerTestBase;
import io.dkv.testing.TestServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A controller over DKV informers on a real server: jobs under {@code <p>jobs/} (JSON) are reconciled into
 * status keys under {@code <p>status/}; a second informer over teams maps a team change to its jobs. Runs on
 * dkv-server and on etcd.
 */
abstract class ControllerE2EContract extends ServerTestBase {

  private static final AtomicInteger IDS = new AtomicInteger();

  record Job(String id, String team, int spec) {}

  record Team(String name, boolean paused) {}


  ControllerE2EContract(TestServer server) {
    super(server);
  }

  private Optional<String> status(String p, String id) {
    return client.get(p + "status/" + id).map(v -> v.value());
  }

  @Test
  void reconcilesEtcdKeysThroughInformersAndAManager() throws Exception {
    String p = "/e2e" + IDS.incrementAndGet() + "/";
    client.put(p + "jobs/a", new Job("a", "red", 1), Codec.json(Job.class));
    client.put(p + "teams/red", new Team("red", false), Codec.json(Team.class));

    SharedIndexInformer<Versioned<Job>> jobs = SharedIndexInformer
        .builder(ListerWatchers.etcd(client, p + "jobs/", Codec.json(Job.class))).build();
    SharedIndexInformer<Versioned<Team>> teams = SharedIndexInformer
        .builder(ListerWatchers.etcd(client, p + "teams/", Codec.json(Team.class))).build();
    AtomicInteger reconciles = new AtomicInteger();
    Reconciler reconciler = request -> {
      reconciles.incrementAndGet();
      String id = request.key().substring((p + "jobs/").length());
      Optional<Job> job = jobs.lister().get(request.key()).map(Versioned::value);
      if (job.isEmpty()) {
        client.delete(p + "status/" + id);
        return Result.done();
      }
      boolean paused = teams.lister().get(p + "teams/" + job.get().team()).map(t -> t.value().paused()).orElse(false);
      client.put(p + "status/" + id, (paused ? "paused:" : "running:") + job.get().spec());
      return Result.done();
    };
    try (Manager manager = Manager.builder().httpAddress(new InetSocketAddress("127.0.0.1", 0)).build()) {
      manager.add(Controller.builder("jobs-" + IDS.get()).meterRegistry(manager.meterRegistry())
          .forResource(jobs)                                   // each job's own key
          .watches(teams, (Versioned<Team> t) -> jobs.lister().list().stream()
              .filter(j -> j.value().team().equals(t.value().name())).map(j -> Request.ofKey(j.key())).toList())
          .workers(2)
          .build(reconciler));
      manager.start();
      assertTrue(jobs.hasSynced() && teams.hasSynced(), "start() returns after the sync");

      await().until(() -> status(p, "a").equals(Optional.of("running:1")));
      client.put(p + "jobs/b", new Job("b", "red", 7), Codec.json(Job.class));
      client.put(p + "jobs/a", new Job("a", "red", 2), Codec.json(Job.class));
      await().until(() -> status(p, "a").equals(Optional.of("running:2"))
          && status(p, "b").equals(Optional.of("running:7")));

      client.put(p + "teams/red", new Team("red", true), Codec.json(Team.class)); // maps to a and b
      await().until(() -> status(p, "a").equals(Optional.of("paused:2"))
          && status(p, "b").equals(Optional.of("paused:7")));

      client.delete(p + "jobs/a");
      await().until(() -> status(p, "a").isEmpty());

      HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + manager.httpPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertTrue(metrics.body().contains("controller_runtime_reconcile_total{controller=\"jobs-" + IDS.get()
          + "\",result=\"success\"}"), metrics.body());
    }
    assertTrue(jobs.stopped().isDone() && teams.stopped().isDone(), "the manager stopped its informers");
    assertEquals(List.of(), client.list(p + "status/", Codec.string()).stream()
        .filter(v -> v.key().endsWith("/a")).toList());
  }

  @Test
  void aManagerWithAnElectionReconcilesOnlyWhileLeading() {
    String p = "/e2e" + IDS.incrementAndGet() + "/";
    client.put(p + "jobs/a", new Job("a", "red", 1), Codec.json(Job.class));
    SharedIndexInformer<Versioned<Job>> jobs = SharedIndexInformer
        .builder(ListerWatchers.etcd(client, p + "jobs/", Codec.json(Job.class))).build();
    LeaderElector elector = LeaderElector.builder(client, p + "leader").identity("only")
        .leaseDuration(Duration.ofSeconds(3)).renewDeadline(Duration.ofSeconds(2))
        .retryPeriod(Duration.ofMillis(300)).build();
    try (Manager manager = Manager.builder().leaderElector(elector).build()) {
      manager.add(Controller.builder("fenced-" + IDS.get()).meterRegistry(manager.meterRegistry())
          .forResource(jobs)
          .build(request -> {
            FencingToken token = manager.fencingToken().orElseThrow(() -> new TerminalException("not leading"));
            Job job = jobs.lister().get(request.key()).orElseThrow().value();
            if (!token.put(client, p + "status/" + job.id(), "spec " + job.spec()).applied()) {
              throw new TerminalException("fenced write refused");
            }
            return Result.done();
          }));
      manager.start();
      await().until(manager::isLeader);
      await().until(() -> status(p, "a").equals(Optional.of("spec 1")));
      client.put(p + "jobs/a", new Job("a", "red", 2), Codec.json(Job.class));
      await().until(() -> status(p, "a").equals(Optional.of("spec 2")));
    }
    assertTrue(elector.currentLeader().isEmpty(), "closing the manager resigned");
  }
}
