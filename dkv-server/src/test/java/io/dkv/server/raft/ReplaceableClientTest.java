package io.dkv.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.TimeDuration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Ratis client whose request ran out of retries fails every later request at once ({@code SlidingWindow$Client
 * ... is closed}); {@link ReplaceableClient} replaces it and sends the request that was not sent on the new one.
 * Against a one-member Ratis server in this JVM; the broken client first talks to a port nobody listens on.
 */
class ReplaceableClientTest {

  private static final RaftGroupId GROUP = RaftGroupId.valueOf(UUID.randomUUID());
  private static final RaftPeer LIVE_ID_ONLY = RaftPeer.newBuilder().setId("s1").build();

  @TempDir
  Path dir;
  private RaftServer server;
  private RaftPeer live;
  private RaftPeer dead;
  private final AtomicInteger applied = new AtomicInteger();
  private final ExecutorService executor = Executors.newSingleThreadExecutor();

  /** A state machine that counts the writes it applied and answers each with the count. */
  private final class Counter extends BaseStateMachine {
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
      return CompletableFuture.completedFuture(Message.valueOf(String.valueOf(applied.incrementAndGet())));
    }
  }

  @BeforeEach
  void startServer() throws IOException {
    int port = freePort();
    live = RaftPeer.newBuilder(LIVE_ID_ONLY).setAddress("127.0.0.1:" + port).build();
    dead = RaftPeer.newBuilder(LIVE_ID_ONLY).setAddress("127.0.0.1:" + freePort()).build();
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
    GrpcConfigKeys.Server.setPort(p, port);
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, TimeDuration.valueOf(10, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, TimeDuration.valueOf(20, TimeUnit.MILLISECONDS));
    server = RaftServer.newBuilder().setServerId(live.getId()).setGroup(RaftGroup.valueOf(GROUP, live))
        .setProperties(p).setStateMachine(new Counter()).setOption(RaftStorage.StartupOption.FORMAT).build();
    server.start();
    Awaitility.await().atMost(Duration.ofSeconds(20))
        .until(() -> server.getDivision(GROUP).getInfo().isLeaderReady());
  }

  @AfterEach
  void stop() throws IOException {
    executor.shutdownNow();
    server.close();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A client without retries (as DKV's admin client): its first failed request closes its window. */
  private static RaftClient client(RaftPeer to) {
    RaftProperties p = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(2, TimeUnit.SECONDS));
    return RaftClient.newBuilder().setProperties(p).setRaftGroup(RaftGroup.valueOf(GROUP, to))
        .setRetryPolicy(RetryPolicies.noRetry()).build();
  }

  private static Message write() {
    return Message.valueOf("w");
  }

  private static Throwable failure(CompletableFuture<?> f) throws InterruptedException {
    try {
      f.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      fail("no answer in 20 s");
    }
    fail("expected a failure");
    return null;
  }

  @Test
  void aRatisClientWhoseRequestRanOutOfRetriesFailsEveryLaterRequestAtOnce() throws Exception {
    // the premise, Ratis's behaviour: the defect DKV met after a member was paused
    try (RaftClient c = client(dead)) {
      failure(c.async().send(write())); // out of retries (Ratis 3.3 fails it as closed too, wrapping the retry failure)
      CompletableFuture<RaftClientReply> second = c.async().send(write());
      assertTrue(second.isCompletedExceptionally(), "failed before send returned");
      assertTrue(ReplaceableClient.isClosed(failure(second)), "second: " + failure(second));
    }
    assertEquals(0, applied.get());
  }

  @Test
  void aClosedClientIsReplacedAndTheRequestNotSentGoesOnTheNewOne() throws Exception {
    AtomicInteger built = new AtomicInteger();
    java.util.Queue<Runnable> later = new java.util.concurrent.ConcurrentLinkedQueue<>();
    ReplaceableClient c = new ReplaceableClient("test", () -> client(built.getAndIncrement() == 0 ? dead : live),
        later::add); // what the wrapper hands its executor runs when the test says so
    try {
      // the first client's write runs out of retries and closes its window; its replacement waits on the executor.
      // Its failure is held back until the call returned (a refused connection can fail it before: then it is
      // the request that closed the window, which the wrapper tells from one refused by a window seen closed)
      CompletableFuture<Void> returned = new CompletableFuture<>();
      CompletableFuture<RaftClientReply> first = c.send(r -> {
        CompletableFuture<RaftClientReply> sent = r.async().send(write());
        return returned.thenCompose(x -> sent);
      }, false);
      returned.complete(null);
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !later.isEmpty());
      assertEquals(1, built.get());

      // a write meanwhile, on the client seen closed: refused by the closed window, never sent, so it goes on a
      // new client
      RaftClientReply reply = c.send(r -> r.async().send(write()), false).get(20, TimeUnit.SECONDS);
      assertTrue(reply.isSuccess(), reply.toString());
      assertEquals("1", reply.getMessage().getContent().toStringUtf8());
      assertEquals(2, built.get());
      assertEquals(1, c.replacements());

      // the first write may have been sent: it fails, and is not sent again
      later.forEach(Runnable::run);
      assertTrue(ReplaceableClient.isClosed(failure(first)));
      assertEquals(1, applied.get(), "the first write was not sent again");
      assertEquals(1, c.replacements(), "replaced once");

      RaftClientReply again = c.send(r -> r.async().send(write()), false).get(20, TimeUnit.SECONDS);
      assertEquals("2", again.getMessage().getContent().toStringUtf8());
      assertEquals(2, built.get(), "a working client is kept");
    } finally {
      c.close();
    }
    assertEquals(2, applied.get(), "each write applied once");
  }

  @Test
  void aRequestThatFailedAsClosedLaterIsRetriedOnlyIfIdempotent() throws Exception {
    AtomicInteger built = new AtomicInteger();
    ReplaceableClient c = new ReplaceableClient("test", () -> {
      built.incrementAndGet();
      return client(live);
    }, executor);
    try {
      AtomicInteger calls = new AtomicInteger();
      // the first call's future fails after the call returned (it may have been sent), the second succeeds
      java.util.function.Function<RaftClient, CompletableFuture<String>> call = r -> {
        if (calls.getAndIncrement() == 0) {
          return CompletableFuture.supplyAsync(() -> {
            throw new java.util.concurrent.CompletionException(new AlreadyClosedException("window is closed"));
          }, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));
        }
        return CompletableFuture.completedFuture("answer");
      };
      Throwable write = failure(c.send(call, false));
      assertTrue(ReplaceableClient.isClosed(write), "a write that may have been sent is not sent again: " + write);
      assertEquals(1, calls.get());
      assertEquals(2, built.get(), "the closed client was replaced all the same");

      calls.set(0);
      assertEquals("answer", c.send(call, true).get(20, TimeUnit.SECONDS), "a read is asked again");
      assertEquals(2, calls.get());
      assertEquals(3, built.get());
    } finally {
      c.close();
    }
  }
}
