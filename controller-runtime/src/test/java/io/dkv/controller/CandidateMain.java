package io.dkv.controller;

import io.dkv.client.DkvClient;
import io.dkv.client.FencedWrite;
import io.dkv.client.FencingToken;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A manager in a JVM of its own, for {@link KillLeaderProcessTest}: campaigns in {@code <prefix>election} and,
 * while leading, writes fenced entries {@code <prefix>log/<identity>-<n>} = {@code "<identity> <token>"}.
 * Arguments: endpoint, prefix, identity. SIGTERM closes the manager gracefully.
 */
public final class CandidateMain {
  private CandidateMain() {}

  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    String prefix = args[1];
    String identity = args[2];
    DkvClient client = DkvClient.builder().endpoints(endpoint).requestTimeout(Duration.ofSeconds(5)).build();
    LeaderElector elector = LeaderElector.builder(client, prefix + "election").identity(identity)
        .leaseDuration(Duration.ofSeconds(3)).renewDeadline(Duration.ofSeconds(2))
        .retryPeriod(Duration.ofMillis(300)).build();
    Manager manager = Manager.builder().leaderElector(elector).build();
    FakeInformer<String> work = new FakeInformer<>(s -> s);
    work.put("work");
    AtomicInteger seq = new AtomicInteger();
    manager.add(Controller.builder("writer").meterRegistry(manager.meterRegistry())
        .forResource(work, Request::ofKey)
        .build(request -> {
          FencingToken token = manager.fencingToken().orElseThrow(() -> new TerminalException("not leading"));
          FencedWrite r = token.put(client, prefix + "log/" + identity + "-" + seq.incrementAndGet(),
              identity + " " + token.revision());
          if (!r.applied()) {
            throw new TerminalException("fenced write refused");
          }
          return Result.requeueAfter(Duration.ofMillis(20));
        }));
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      manager.close();
      client.close();
      done.countDown();
    }));
    manager.start();
    manager.stopped().exceptionally(e -> {
      System.exit(3); // leadership lost: exit, as a real controller process does
      return null;
    });
    done.await();
  }
}
