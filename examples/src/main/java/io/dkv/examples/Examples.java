package io.dkv.examples;

import io.dkv.examples.cache.CacheExample;
import io.dkv.examples.jobworker.JobWorkerExample;
import io.dkv.examples.k8sconfigmap.ConfigMapControllerExample;
import io.dkv.examples.leaderelection.LeaderElectionExample;
import io.dkv.examples.presence.PresenceExample;
import io.dkv.examples.replicaset.ReplicaSetControllerExample;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The examples' command line: {@code java -cp ... io.dkv.examples.Examples <example> [options]}; {@code --help}
 * lists the examples, {@code <example> --help} its options. Every example runs against an embedded dkv-server
 * unless given {@code --endpoint http://host:port}.
 */
@Command(name = "examples", mixinStandardHelpOptions = true,
    description = "Runnable DKV examples. Each runs against an embedded dkv-server, or --endpoint.",
    subcommands = {JobWorkerExample.class, CacheExample.class, LeaderElectionExample.class,
        PresenceExample.class, ReplicaSetControllerExample.class, ConfigMapControllerExample.class})
public final class Examples implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** Without an example name: the usage. */
  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Examples()).execute(args));
  }
}
