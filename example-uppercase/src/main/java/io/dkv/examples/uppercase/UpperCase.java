package io.dkv.examples.uppercase;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.controller.Controller;
import io.dkv.controller.Manager;
import io.dkv.controller.Request;
import io.dkv.controller.Result;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A controller that keeps {@code out/<name>} equal to the upper-cased value of {@code in/<name>} (plain strings)
 * and repairs {@code out/<name>} when someone changes it by hand: the objects carry their keys, so
 * {@code forResource(in)} enqueues {@code in/<name>}, and the {@code out/} informer maps each output back to its
 * input. Runs against dkv-server or any etcd; its only DKV dependencies are dkv-client, dkv-informer and
 * dkv-controller-runtime.
 *
 * <pre>
 * java -cp "example-uppercase/target/classes:$(cat example-uppercase/target/classpath.txt)" \
 *     io.dkv.examples.uppercase.UpperCase 127.0.0.1:2379
 * </pre>
 */
public final class UpperCase {
  private UpperCase() {}

  /** Starts the controller (its informers synced) and returns the manager that runs it; close it to stop. */
  // region upper-case-controller
  public static Manager start(DkvClient client) {
    SharedIndexInformer<Versioned<String>> in =
        SharedIndexInformer.builder(ListerWatchers.etcd(client, "in/", Codec.string())).build();
    SharedIndexInformer<Versioned<String>> out =
        SharedIndexInformer.builder(ListerWatchers.etcd(client, "out/", Codec.string())).build();
    Controller controller = Controller.builder("upper-case")
        .forResource(in)                                                     // requests: "in/<name>"
        .watches(out, (Versioned<String> o) -> List.of(Request.ofKey("in/" + o.key().substring(4))))
        .build(request -> {
          String outKey = "out/" + request.key().substring(3);
          Optional<Versioned<String>> source = in.lister().get(request.key());
          Optional<Versioned<String>> target = out.lister().get(outKey);
          if (source.isEmpty()) {
            if (target.isPresent()) {
              client.delete(outKey);
            }
          } else {
            String want = source.get().value().toUpperCase(Locale.ROOT);
            if (target.isEmpty() || !target.get().value().equals(want)) {
              client.put(outKey, want);
            }
          }
          return Result.done();
        });
    Manager manager = Manager.builder().build();
    manager.add(controller);   // and both informers
    manager.start();
    return manager;
  }
  // endregion

  /** Runs the controller against the endpoint given (default {@code 127.0.0.1:2379}) until the process ends. */
  public static void main(String[] args) throws Exception {
    String endpoint = args.length > 0 ? args[0] : "127.0.0.1:2379";
    DkvClient client = DkvClient.connect(endpoint);
    Manager manager = start(client);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      manager.close();
      client.close();
    }, "upper-case-shutdown"));
    manager.stopped().join();
  }
}
