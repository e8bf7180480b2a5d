package io.dkv.informer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.testing.DkvProcess;
import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server is killed (SIGKILL) and restarted on the same port and data while writers write and an informer
 * watches: the informer comes back by itself, the cache equals the server at the same revision, and every
 * handler's states per key are an ordered subsequence of the writes. Once against dkv-server, once against etcd.
 */
class ServerRestartTest {

  private static final List<String> JVM = List.of("-Xmx128m", "-XX:TieredStopAtLevel=1");

  /** A server that can be killed and started again on the same port and data. */
  interface Server extends AutoCloseable {
    void kill();

    void restart() throws Exception;

    @Override
    void close();
  }

  @Test
  void dkvServerKilledAndRestarted(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("data");
    DkvProcess[] current = {DkvProcess.start(data, 0, JVM)};
    int port = current[0].port();
    scenario(port, new Server() {
      @Override
      public void kill() {
        current[0].kill();
      }

      @Override
      public void restart() throws IOException {
        current[0] = DkvProcess.start(data, port, JVM);
      }

      @Override
      public void close() {
        current[0].close();
      }
    });
  }

  @Test
  void etcdKilledAndRestarted(@TempDir Path tmp) throws Exception {
    EtcdProcess.assumeInstalled();
    int client = freePort();
    int peer = freePort();
    List<String> cmd = List.of(EtcdProcess.binary().toString(), "--name", "restart",
        "--data-dir", tmp.resolve("etcd").toString(),
        "--listen-client-urls", "http://127.0.0.1:" + client,
        "--advertise-client-urls", "http://127.0.0.1:" + client,
        "--listen-peer-urls", "http://127.0.0.1:" + peer,
        "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
        "--initial-cluster", "restart=http://127.0.0.1:" + peer,
        "--log-level", "error");
    Process[] current = {startEtcd(cmd, tmp, client)};
    scenario(client, new Server() {
      @Override
      public void kill() {
        current[0].destroyForcibly();
        try {
          current[0].waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void restart() throws IOException {
        current[0] = startEtcd(cmd, tmp, client);
      }

      @Override
      public void close() {
        kill();
      }
    });
  }

  private static Process startEtcd(List<String> cmd, Path dir, int port) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("etcd.log").toFile())).start();
    await().atMost(Duration.ofSeconds(30)).until(() -> !p.isAlive() || accepts(port));
    if (!p.isAlive()) {
      throw new IOException("etcd exited with " + p.exitValue());
    }
    return p;
  }

  private static boolean accepts(int port) {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void scenario(int port, Server server) throws Exception {
    String endpoint = "http://127.0.0.1:" + port;
    String prefix = "/restart/";
    Map<String, List<String>> history = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    try (server;
        DkvClient writer = DkvClient.builder().endpoints(endpoint).requestTimeout(Duration.ofSeconds(5)).build();
        DkvClient reader = DkvClient.builder().endpoints(endpoint).build()) {
      for (int w = 0; w < 2; w++) {
        for (int k = 0; k < 10; k++) {
          String key = prefix + "w" + w + "k" + k;
          writer.put(key, key + "|init");
          history.put(key, new ArrayList<>(List.of(key + "|init")));
        }
      }
      Recorder handler = new Recorder();
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      try (SharedIndexInformer<io.dkv.client.Versioned<String>> informer = SharedIndexInformer.builder(
              ListerWatchers.etcd(reader, prefix, Codec.string()))
          .backoff(Duration.ofMillis(50), Duration.ofSeconds(1)).meterRegistry(meters).build()) {
        informer.addEventHandler(handler.values());
        informer.start();
        await().atMost(Duration.ofSeconds(30)).until(informer::isWatching);
        AtomicInteger writes = new AtomicInteger();
        for (int w = 0; w < 2; w++) {
          int id = w;
          Thread t = new Thread(() -> InformerContract.write(writer, prefix, id, 10, history, writes, stop));
          threads.add(t);
          t.start();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> writes.get() >= 60);
        server.kill();
        server.restart();
        int before = writes.get();
        await().atMost(Duration.ofSeconds(60)).until(() -> writes.get() >= before + 60);
        stop.set(true);
        for (Thread t : threads) {
          t.join();
        }
        long last = writer.jetcd().getKVClient().get(ByteSequence.from(prefix, StandardCharsets.UTF_8)).get()
            .getHeader().getRevision();
        await().atMost(Duration.ofSeconds(60)).until(() -> informer.lister().revision() >= last);
        long at = informer.lister().revision();
        Map<String, String> serverState = new TreeMap<>();
        for (KeyValue kv : writer.jetcd().getKVClient().get(ByteSequence.from(prefix, StandardCharsets.UTF_8),
            GetOption.builder().isPrefix(true).withRevision(at).build()).get().getKvs()) {
          serverState.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().toString(StandardCharsets.UTF_8));
        }
        Map<String, String> cache = new TreeMap<>();
        informer.lister().keys().forEach(k -> cache.put(k, informer.lister().get(k).orElseThrow().value()));
        assertEquals(serverState, cache, "cache and server at revision " + at);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(serverState, handler.current()));
        assertEquals(List.of(), handler.violations());
        assertEquals(List.of(), handler.notSubsequenceOf(history));
        assertTrue(informer.audit().clean());
        assertEquals(0.0, meters.get("informer.relists").counter().count(), "resumed without listing again");
      }
    } finally {
      stop.set(true);
      for (Thread t : threads) {
        t.join();
      }
    }
  }
}
