package io.dkv.controller;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.SharedIndexInformer;
import java.util.Locale;
import java.util.Optional;

/**
 * An etcd controller with the default key ({@code forResource(informer)}), run by {@link WithoutFabric8Test} in a
 * class loader that has no fabric8 classes: nothing on the etcd path may need them.
 */
public final class NoFabric8Scenario {
  private NoFabric8Scenario() {}

  /** Starts a manager that keeps {@code <p>out/<name>} equal to the upper-cased {@code <p>in/<name>}. */
  public static AutoCloseable start(String endpoint, String p) {
    DkvClient client = DkvClient.connect(endpoint);
    SharedIndexInformer<Versioned<String>> in =
        SharedIndexInformer.builder(ListerWatchers.etcd(client, p + "in/", Codec.string())).build();
    Manager manager = Manager.builder().build();
    manager.add(Controller.builder("no-fabric8").forResource(in).build(request -> {
      Optional<Versioned<String>> v = in.lister().get(request.key());
      String out = p + "out/" + request.key().substring((p + "in/").length());
      if (v.isPresent()) {
        client.put(out, v.get().value().toUpperCase(Locale.ROOT));
      } else {
        client.delete(out);
      }
      return Result.done();
    }));
    manager.start();
    return () -> {
      manager.close();
      client.close();
    };
  }
}
