package io.dkv.examples.k8sconfigmap;

import io.dkv.controller.Controller;
import io.dkv.controller.EventFilter;
import io.dkv.controller.Manager;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The controller runtime on a real Kubernetes cluster: an informer on the ConfigMaps of one namespace (DKV's
 * Kubernetes source, through fabric8's client and the kubeconfig) and a controller that keeps each ConfigMap's
 * {@code dkv.io/data-checksum} annotation equal to a checksum of its data. With {@code --demo} it creates three
 * ConfigMaps, changes one, shows the annotations follow, and deletes them; otherwise it runs until stopped.
 *
 * <pre>
 * java -cp "examples/target/classes:$(cat examples/target/classpath.txt)" io.dkv.examples.Examples \
 *     kubernetes-configmap-controller --demo
 * </pre>
 */
@Command(name = "kubernetes-configmap-controller", mixinStandardHelpOptions = true,
    description = "Reconciles the ConfigMaps of a Kubernetes cluster (kubeconfig): a checksum annotation of their data.")
public final class ConfigMapControllerExample implements Callable<Integer> {

  @Option(names = "--kubeconfig", description = "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
  Path kubeconfig;

  @Option(names = "--namespace", description = "namespace to reconcile (default: the kubeconfig context's, else default)")
  String namespace;

  @Option(names = "--demo", description = "create, change and delete three ConfigMaps, then exit")
  boolean demo;

  @Option(names = "--timeout-s", description = "with --demo: give up waiting after this long (default: ${DEFAULT-VALUE})")
  int timeoutSeconds = 60;

  /**
   * What the demo saw.
   *
   * @param namespace   the namespace reconciled
   * @param checksums   per demo ConfigMap, its checksum annotation once right (after the change, for the changed one)
   * @param expected    per demo ConfigMap, the checksum of its data
   */
  public record Report(String namespace, Map<String, String> checksums, Map<String, String> expected) {
  }

  @Override
  public Integer call() throws Exception {
    try (KubernetesClient kubernetes = connect()) {
      if (demo) {
        Report r = run(System.out, kubernetes);
        return r.checksums().equals(r.expected()) ? 0 : 1;
      }
      String ns = namespaceOf(kubernetes);
      try (Manager manager = start(kubernetes, ns)) {
        System.out.printf("reconciling ConfigMaps in %s of %s; Ctrl-C stops%n", ns,
            kubernetes.getConfiguration().getMasterUrl());
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        stop.await();
      }
      return 0;
    }
  }

  /**
   * The fabric8 client of the kubeconfig given, or of fabric8's usual lookup; it fails within seconds, with a
   * clear message, when the API server cannot be reached.
   */
  KubernetesClient connect() {
    Config config;
    if (kubeconfig == null) {
      config = Config.autoConfigure(null);
    } else {
      try {
        config = Config.fromKubeconfig(Files.readString(kubeconfig, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the kubeconfig " + kubeconfig, e);
      }
    }
    config.setConnectionTimeout(5_000);
    config.setRequestRetryBackoffLimit(1);
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    try {
      client.configMaps().inNamespace(namespaceOf(client)).list(new ListOptionsBuilder().withLimit(1L).build());
    } catch (KubernetesClientException e) {
      client.close();
      throw new IllegalStateException("cannot list ConfigMaps at " + config.getMasterUrl() + " (" + e.getMessage()
          + "); pass --kubeconfig FILE or set KUBECONFIG", e);
    }
    return client;
  }

  private String namespaceOf(KubernetesClient kubernetes) {
    if (namespace != null) {
      return namespace;
    }
    String ns = kubernetes.getNamespace();
    return ns == null ? "default" : ns;
  }

  // region wiring
  static Manager start(KubernetesClient kubernetes, String namespace) {
    SharedIndexInformer<ConfigMap> configMaps = SharedIndexInformer
        .builder(ListerWatchers.kubernetes(kubernetes, ConfigMap.class, namespace))  // list, then watch the API
        .name("configmaps").build();
    Manager manager = Manager.builder().build();
    manager.add(Controller.builder("configmap-checksums").meterRegistry(manager.meterRegistry())
        .forKind(configMaps, ConfigMap.class, EventFilter.resourceVersionChanged())
        .build(new ChecksumReconciler(configMaps, kubernetes)));
    manager.start();                                   // returns once the informer has synced
    return manager;
  }
  // endregion

  /** The demo: three ConfigMaps created, one changed, each annotation awaited, all deleted. */
  public Report run(PrintStream out, KubernetesClient kubernetes) throws InterruptedException {
    String ns = namespaceOf(kubernetes);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    out.printf("kubernetes-configmap-controller: namespace %s of %s%n", ns, kubernetes.getConfiguration().getMasterUrl());
    List<String> names = List.of("dkv-demo-1", "dkv-demo-2", "dkv-demo-3");
    Map<String, String> seen = new TreeMap<>();
    Map<String, String> expected = new TreeMap<>();
    try (Manager manager = start(kubernetes, ns)) {
      for (String name : names) {
        kubernetes.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata().withName(name)
            .withNamespace(ns).endMetadata().withData(Map.of("greeting", "hello from " + name)).build()).create();
        out.printf("created %s%n", name);
      }
      for (String name : names) {
        await(out, kubernetes, ns, name, deadline, seen, expected);
      }
      kubernetes.configMaps().inNamespace(ns).withName(names.get(0)).edit(cm -> new ConfigMapBuilder(cm)
          .addToData("greeting", "changed").build());
      out.printf("changed the data of %s%n", names.get(0));
      await(out, kubernetes, ns, names.get(0), deadline, seen, expected);
    } finally {
      for (String name : names) {
        kubernetes.configMaps().inNamespace(ns).withName(name).delete();
      }
      out.println("deleted the demo ConfigMaps");
    }
    return new Report(ns, seen, expected);
  }

  private static void await(PrintStream out, KubernetesClient kubernetes, String ns, String name, long deadline,
      Map<String, String> seen, Map<String, String> expected) throws InterruptedException {
    while (true) {
      ConfigMap cm = kubernetes.configMaps().inNamespace(ns).withName(name).get();
      String want = ChecksumReconciler.checksum(cm.getData());
      String have = Optional.ofNullable(cm.getMetadata().getAnnotations()).map(a -> a.get(ChecksumReconciler.ANNOTATION))
          .orElse(null);
      if (want.equals(have)) {
        seen.put(name, have);
        expected.put(name, want);
        out.printf("  %s  %s=%s%n", name, ChecksumReconciler.ANNOTATION, have);
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("gave up waiting for the checksum of " + name + " (has " + have + ")");
      }
      Thread.sleep(20); // a program polling the API server; not a test
    }
  }
}
