package io.dkv.examples.replicaset;

import io.dkv.client.DkvClient;
import io.dkv.examples.Target;
import io.dkv.resources.DkvResources;
import io.dkv.resources.ResourceClient;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A Kubernetes-style controller on DKV resources: it keeps {@code spec.replicas} pods for each ReplicaSet, owned
 * through owner references, with DKV's garbage collector removing the pods of deleted ReplicaSets. The example
 * creates ReplicaSets, deletes a pod, scales, deletes a ReplicaSet, then stops the controller, changes things
 * while it is down, restarts the server and the controller, and shows them converge again.
 *
 * <pre>
 * java -cp "examples/target/classes:$(cat examples/target/classpath.txt)" io.dkv.examples.Examples replicaset-controller
 * </pre>
 */
@Command(name = "replicaset-controller", mixinStandardHelpOptions = true,
    description = "A controller on DKV resources keeping N pods per ReplicaSet, across restarts.")
public final class ReplicaSetControllerExample implements Callable<Integer> {

  private static final List<String> NAMES = List.of("web", "api", "cron", "search", "mail", "auth", "queue", "feed");

  @Option(names = "--endpoint", description = "etcd-v3 endpoint (default: an embedded dkv-server, restarted midway)")
  String endpoint;

  @Option(names = "--replicasets", description = "ReplicaSets to create, 3 to 8 (default: ${DEFAULT-VALUE})")
  int replicaSets = 3;

  @Option(names = "--replicas", description = "pods per ReplicaSet (default: ${DEFAULT-VALUE})")
  int replicas = 2;

  @Option(names = "--timeout-s", description = "give up waiting for a state after this long (default: ${DEFAULT-VALUE})")
  int timeoutSeconds = 60;

  /**
   * What the store held at the end.
   *
   * @param pods           per ReplicaSet left, the names of the pods it owns (by uid)
   * @param expected       per ReplicaSet left, the pod names it should own
   * @param deleted        the ReplicaSet deleted midway
   * @param deletedsPods   pods still owned by the deleted ReplicaSet (none once collected)
   * @param serverRestarted whether the server was restarted (the embedded one is)
   */
  public record Report(Map<String, List<String>> pods, Map<String, List<String>> expected, String deleted,
      List<String> deletedsPods, boolean serverRestarted) {
  }

  @Override
  public Integer call() throws Exception {
    Report r = run(System.out);
    return r.pods().equals(r.expected()) && r.deletedsPods().isEmpty() ? 0 : 1;
  }

  /** Runs the scenario and prints each state to {@code out}. */
  public Report run(PrintStream out) throws InterruptedException {
    if (replicaSets < 3 || replicaSets > NAMES.size() || replicas < 1) {
      throw new IllegalArgumentException("--replicasets must be 3 to 8 and --replicas positive");
    }
    String ns = "rs-" + UUID.randomUUID().toString().substring(0, 8);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    try (Target target = Target.open(endpoint)) {
      out.printf("replicaset-controller: %d ReplicaSets x %d pods in namespace %s, against %s%n", replicaSets,
          replicas, ns, target);
      Map<String, Integer> want = new TreeMap<>();
      String deleted = NAMES.get(replicaSets - 1);
      String web = NAMES.get(0);
      String api = NAMES.get(1);
      try (DkvClient client = target.connect(); ReplicaSetController controller =
          new ReplicaSetController(client, ns).start()) {
        Store store = new Store(client, ns);
        for (int i = 0; i < replicaSets; i++) {
          want.put(NAMES.get(i), replicas);
          store.replicaSets.create(new ReplicaSetBuilder().withNewMetadata().withNamespace(ns)
              .withName(NAMES.get(i)).endMetadata().withNewSpec().withReplicas(replicas).endSpec().build());
        }
        converge(out, store, want, deleted, deadline, "created " + replicaSets + " ReplicaSets");

        String victim = web + "-0";
        String uid = store.pods.get(ns, victim).orElseThrow().getMetadata().getUid();
        store.pods.delete(ns, victim);
        awaitOrFail(() -> store.pods.get(ns, victim).map(p -> !p.getMetadata().getUid().equals(uid)).orElse(false),
            deadline, "a new " + victim);
        converge(out, store, want, deleted, deadline, "deleted pod " + victim + ": recreated");

        store.scale(api, replicas + 1);
        want.put(api, replicas + 1);
        converge(out, store, want, deleted, deadline, "scaled " + api + " to " + (replicas + 1));

        store.replicaSets.delete(ns, deleted);
        want.remove(deleted);
        converge(out, store, want, deleted, deadline, "deleted ReplicaSet " + deleted + ": its pods collected");
      }
      out.println("controller stopped; changing things while it is down");
      try (DkvClient client = target.connect()) {
        Store store = new Store(client, ns);
        int webNow = replicas == 1 ? 2 : replicas - 1;
        store.scale(web, webNow);
        want.put(web, webNow);
        store.pods.delete(ns, api + "-0");
        out.printf("  scaled %s to %d, deleted pod %s-0%n", web, webNow, api);
      }
      boolean restarted = target.embedded();
      if (restarted) {
        target.restart();
        out.println("server restarted on the same data directory");
      }
      try (DkvClient client = target.connect(); ReplicaSetController controller =
          new ReplicaSetController(client, ns).start()) {
        Store store = new Store(client, ns);
        converge(out, store, want, deleted, deadline, "a new controller started");
        return new Report(store.ownedPods(want.keySet()), expected(want), deleted,
            store.ownedPods(List.of(deleted)).getOrDefault(deleted, List.of()), restarted);
      }
    }
  }

  private static Map<String, List<String>> expected(Map<String, Integer> want) {
    Map<String, List<String>> out = new TreeMap<>();
    want.forEach((rs, n) -> {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        names.add(rs + "-" + i);
      }
      out.put(rs, names);
    });
    return out;
  }

  /** Waits until the store holds exactly the expected pods, then prints them. */
  private static void converge(PrintStream out, Store store, Map<String, Integer> want, String deleted,
      long deadline, String what) throws InterruptedException {
    long start = System.nanoTime();
    List<String> all = new ArrayList<>(want.keySet());
    all.add(deleted);
    Map<String, List<String>> expected = expected(want);
    expected.putIfAbsent(deleted, List.of());
    awaitOrFail(() -> {
      Map<String, List<String>> now = store.ownedPods(all);
      for (String rs : all) {
        now.putIfAbsent(rs, List.of());
      }
      return now.equals(expected);
    }, deadline, "the pods after: " + what);
    out.printf("%s; converged in %d ms%n", what, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    store.ownedPods(want.keySet()).forEach((rs, pods) ->
        out.printf("  %-8s %d/%d pods: %s%n", rs, pods.size(), want.get(rs), String.join(" ", pods)));
  }

  /** The store as a user (or kubectl) sees it, read directly, not through the controller's caches. */
  private static final class Store {
    final ResourceClient<ReplicaSet> replicaSets;
    final ResourceClient<Pod> pods;
    final String ns;

    Store(DkvClient client, String ns) {
      DkvResources resources = DkvResources.create(client);
      this.replicaSets = resources.resources(ReplicaSet.class);
      this.pods = resources.resources(Pod.class);
      this.ns = ns;
    }

    void scale(String name, int replicas) {
      while (true) {
        ReplicaSet rs = replicaSets.get(ns, name).orElseThrow();
        rs.getSpec().setReplicas(replicas);
        try {
          replicaSets.update(rs);
          return;
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
        }
      }
    }

    /** Per ReplicaSet name, the pods whose controller owner reference has its name and current uid. */
    Map<String, List<String>> ownedPods(Iterable<String> names) {
      Map<String, String> uids = new TreeMap<>();
      for (String n : names) {
        replicaSets.get(ns, n).ifPresent(rs -> uids.put(rs.getMetadata().getUid(), n));
      }
      Map<String, List<String>> out = new TreeMap<>();
      for (Pod p : pods.list(ns)) {
        for (OwnerReference o : p.getMetadata().getOwnerReferences()) {
          String owner = Boolean.TRUE.equals(o.getController()) ? uids.get(o.getUid()) : null;
          if (owner != null && Objects.equals(owner, o.getName())) {
            out.computeIfAbsent(owner, k -> new ArrayList<>()).add(p.getMetadata().getName());
          } else if (Boolean.TRUE.equals(o.getController()) && !uids.containsKey(o.getUid())) {
            out.computeIfAbsent(o.getName(), k -> new ArrayList<>()).add(p.getMetadata().getName()); // orphan
          }
        }
      }
      out.values().forEach(l -> l.sort(null));
      return out;
    }
  }

  private interface Condition {
    boolean holds();
  }

  private static void awaitOrFail(Condition condition, long deadline, String what) throws InterruptedException {
    while (!condition.holds()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("gave up waiting for " + what);
      }
      Thread.sleep(20); // a program polling the store; not a test
    }
  }
}
