package io.dkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.dkv.testing.DkvProcess;
import io.dkv.testing.LogCapture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a watch logs across a server outage: one WARN line when it loses the server (naming the prefix and the
 * cause), one INFO line when it is back (with the revision it resumed from), the failed attempts in between at
 * DEBUG only; and no change is lost.
 */
class WatchOutageLogTest {

  private static final List<String> JVM = List.of("-Xmx128m", "-XX:TieredStopAtLevel=1");

  @Test
  void oneLineWhenTheServerIsLostAndOneWhenTheWatchResumes(@TempDir Path dir) throws Exception {
    LogCapture log = new LogCapture(Watcher.class);
    DkvProcess server = DkvProcess.start(dir.resolve("data"), 0, JVM);
    int port = server.port();
    List<WatchEvent<String>> events = new CopyOnWriteArrayList<>();
    try (DkvClient client = DkvClient.builder().endpoints(server.endpoint()).requestTimeout(Duration.ofSeconds(10))
        .build();
        Subscription watch = client.watchPrefix("orders/", Codec.string(), WatchOptions.builder()
            .backoff(Duration.ofMillis(20), Duration.ofMillis(100)).build(), events::add)) {
      long first = client.put("orders/1", "a");
      await().atMost(Duration.ofSeconds(30)).until(() -> watch.revision() >= first);
      server.kill();
      await().atMost(Duration.ofSeconds(30)).until(() -> log.at(Level.WARN).size() == 1);
      // then a server that answers every watch with an error: every attempt to resume fails, each a DEBUG line
      try (Failing failing = new Failing(port)) {
        await().atMost(Duration.ofSeconds(30)).until(() -> log.at(Level.DEBUG).size() >= 3);
      }
      server = DkvProcess.start(dir.resolve("data"), port, JVM);
      await().atMost(Duration.ofSeconds(60)).until(() -> log.at(Level.INFO).size() == 1);
      long second = client.put("orders/2", "b");
      await().atMost(Duration.ofSeconds(30)).until(() -> watch.revision() >= second);

      assertEquals(List.of("orders/1", "orders/2"), events.stream().map(WatchEvent::key).toList(),
          "every change once, none lost");
      List<ILoggingEvent> loud = log.events().stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
          .toList();
      assertEquals(2, loud.size(), "one line for the loss and one for the resume: " + log.operatorLines());
      String lost = loud.get(0).getFormattedMessage();
      assertEquals(Level.WARN, loud.get(0).getLevel());
      assertTrue(lost.contains("prefix 'orders/'") && lost.contains("lost its server (") && lost.contains(
          "resuming from revision " + (first + 1)), lost);
      String back = loud.get(1).getFormattedMessage();
      assertEquals(Level.INFO, loud.get(1).getLevel());
      assertEquals("watch on prefix 'orders/' is back: resumed from revision " + (first + 1), back);
    } finally {
      server.close();
      log.close();
    }
  }

  /**
   * A gRPC server on the port that serves nothing, so every watch gets UNIMPLEMENTED at once: a server that is
   * there but cannot serve (jetcd waits silently while nothing listens, so this is what makes attempts fail).
   */
  static final class Failing implements AutoCloseable {
    private final io.grpc.Server server;

    Failing(int port) throws IOException {
      server = io.grpc.netty.NettyServerBuilder
          .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).build().start();
    }

    @Override
    public void close() throws Exception {
      server.shutdownNow().awaitTermination();
    }
  }
}
