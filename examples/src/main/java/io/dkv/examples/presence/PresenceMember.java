package io.dkv.examples.presence;

import io.dkv.client.DkvClient;
import io.dkv.client.Presence;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A member in a process of its own: registers, says so, and stays until the process ends. Killed with SIGKILL it
 * cannot leave; its lease expires after the TTL and the members see it go.
 */
@Command(name = "presence-member", mixinStandardHelpOptions = true, description = "Registers and stays.")
public final class PresenceMember implements Callable<Integer> {

  @Option(names = "--endpoint", required = true, description = "etcd-v3 endpoint")
  String endpoint;

  @Option(names = "--prefix", required = true, description = "the members' key prefix")
  String prefix;

  @Option(names = "--id", required = true, description = "this member's id")
  String id;

  @Option(names = "--ttl-s", description = "lease TTL (default: ${DEFAULT-VALUE})")
  int ttlSeconds = 2;

  public static void main(String[] args) {
    System.exit(new CommandLine(new PresenceMember()).execute(args));
  }

  @Override
  public Integer call() throws InterruptedException {
    DkvClient client = DkvClient.connect(endpoint);
    Runtime.getRuntime().addShutdownHook(new Thread(client::close)); // SIGTERM: leave at once
    Presence.Registration me = client.presence(prefix).register(id, "pid " + ProcessHandle.current().pid(),
        Duration.ofSeconds(ttlSeconds));
    System.out.println(id + ": registered with lease " + Long.toHexString(me.lease().id()));
    System.out.flush();
    new CountDownLatch(1).await();
    return 0;
  }
}
