package io.dkv.examples.leaderelection;

import io.dkv.client.DkvClient;
import io.dkv.client.Election;
import io.dkv.client.FencedWrite;
import io.dkv.client.Leadership;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One worker process of the leader-election example: it campaigns, and while it leads it does the scheduled
 * work (a tick every {@code --tick-ms}, written with a write fenced by its leadership, so a deposed leader's
 * late write is refused). When it loses leadership it stops working and campaigns again. It prints what it
 * does, one line each, to stdout.
 */
@Command(name = "election-worker", mixinStandardHelpOptions = true,
    description = "One worker: campaigns, and does the scheduled work while it leads.")
public final class ElectionWorker implements Callable<Integer> {

  @Option(names = "--endpoint", required = true, description = "etcd-v3 endpoint")
  String endpoint;

  @Option(names = "--id", required = true, description = "this worker's name")
  String id;

  @Option(names = "--election", required = true, description = "the election's name (a key prefix)")
  String election;

  @Option(names = "--work-key", required = true, description = "the key each tick of work is written to")
  String workKey;

  @Option(names = "--ttl-s", description = "lease TTL: how long a dead leader keeps leading (default: ${DEFAULT-VALUE})")
  int ttlSeconds = 2;

  @Option(names = "--tick-ms", description = "period of the scheduled work (default: ${DEFAULT-VALUE})")
  long tickMillis = 200;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ElectionWorker()).execute(args));
  }

  @Override
  public Integer call() throws InterruptedException {
    DkvClient client = DkvClient.connect(endpoint);
    Runtime.getRuntime().addShutdownHook(new Thread(client::close)); // SIGTERM: resign (revoke) and leave
    say("candidate in " + election);
    lead(client.election(election, Duration.ofSeconds(ttlSeconds)));
    return 0;
  }

  // region lead
  private void lead(Election e) throws InterruptedException {
    while (true) {
      Leadership leadership = e.campaign(id);                    // blocks until this worker leads
      say("leading (fencing token " + leadership.revision() + ")");
      for (long tick = 1; leadership.isLeader(); tick++) {
        FencedWrite w = leadership.put(workKey, id + " tick " + tick);    // refused once no longer leader
        if (w.rejected()) {
          break;
        }
        say("tick " + tick);
        TimeUnit.MILLISECONDS.sleep(tickMillis);
      }
      say("lost leadership; campaigning again");
    }
  }
  // endregion

  private void say(String what) {
    System.out.println(id + ": " + what);
    System.out.flush();
  }
}
