package io.dkv.controller;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dkv.testing.ServerTestBase;
import io.dkv.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A user of the etcd path runs a controller with no fabric8 jar on the class path: {@link NoFabric8Scenario} runs
 * in a class loader that loads DKV's classes itself and cannot find any {@code io.fabric8} class.
 */
class WithoutFabric8Test extends ServerTestBase {

  WithoutFabric8Test() {
    super(TestServer.DKV);
  }

  /** Loads {@code io.dkv.*} itself (so their links resolve here) and hides {@code io.fabric8.*}. */
  static final class NoFabric8 extends ClassLoader {
    final Set<String> refused = ConcurrentHashMap.newKeySet();

    NoFabric8(ClassLoader parent) {
      super(parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        if (name.startsWith("io.fabric8.")) {
          refused.add(name);
          throw new ClassNotFoundException(name + " (hidden: no fabric8 on this class path)");
        }
        if (!name.startsWith("io.dkv.")) {
          return super.loadClass(name, resolve);
        }
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
            if (in == null) {
              throw new ClassNotFoundException(name);
            }
            byte[] bytes = in.readAllBytes();
            c = defineClass(name, bytes, 0, bytes.length);
          } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
          }
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }

    @Override
    public URL getResource(String name) {
      return name.startsWith("io/fabric8/") ? null : super.getResource(name);
    }
  }

  @Test
  void anEtcdControllerRunsWithNoFabric8ClassAvailable() throws Exception {
    NoFabric8 loader = new NoFabric8(getClass().getClassLoader());
    assertThrows(ClassNotFoundException.class,
        () -> Class.forName("io.fabric8.kubernetes.api.model.HasMetadata", false, loader));
    loader.refused.clear();
    String p = unique("nofabric8");
    client.put(p + "in/x", "before");
    Class<?> scenario = Class.forName(NoFabric8Scenario.class.getName(), true, loader);
    try (AutoCloseable running = (AutoCloseable) scenario.getMethod("start", String.class, String.class)
        .invoke(null, endpoint, p)) {
      await().atMost(Duration.ofSeconds(30))
          .until(() -> client.get(p + "out/x").map(v -> v.value()).equals(Optional.of("BEFORE")));
      client.put(p + "in/x", "after");
      await().atMost(Duration.ofSeconds(30))
          .until(() -> client.get(p + "out/x").map(v -> v.value()).equals(Optional.of("AFTER")));
      client.delete(p + "in/x");
      await().atMost(Duration.ofSeconds(30)).until(() -> client.get(p + "out/x").isEmpty());
    }
    assertEquals(Set.of(), loader.refused, "fabric8 classes the etcd path asked for");
  }
}
