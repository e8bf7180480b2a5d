package io.dkv.examples.presence;

import io.dkv.client.DkvClient;
import io.dkv.client.Presence;
import io.dkv.client.Subscription;
import io.dkv.examples.Target;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Members register under a prefix with a lease; a dashboard watches the prefix and prints one line per join or
 * leave as it happens. The scenario: members join one by one (one of them in a process of its own), one leaves
 * cleanly (gone at once), the separate process is killed with SIGKILL (gone when its lease expires), the rest
 * leave at the end.
 *
 * <pre>
 * java -cp "examples/target/classes:$(cat examples/target/classpath.txt)" io.dkv.examples.Examples presence
 * </pre>
 */
@Command(name = "presence", mixinStandardHelpOptions = true,
    description = "Members register with a lease; a dashboard line shows joins and leaves as they happen.")
public final class PresenceExample implements Callable<Integer> {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  @Option(names = "--endpoint", description = "etcd-v3 endpoint (default: an embedded dkv-server)")
  String endpoint;

  @Option(names = "--members", description = "members in this process (default: ${DEFAULT-VALUE})")
  int members = 3;

  @Option(names = "--ttl-s", description = "the members' lease TTL (default: ${DEFAULT-VALUE})")
  int ttlSeconds = 2;

  @Option(names = "--timeout-s", description = "give up after this long (default: ${DEFAULT-VALUE})")
  int timeoutSeconds = 120;

  /**
   * What the dashboard saw.
   *
   * @param changes    every join ("+id") and leave ("-id"), in the order the dashboard saw them
   * @param crashed    the member whose process was killed
   * @param crashLeave from the kill until the dashboard saw it leave
   * @param finalMembers the members at the end (none)
   */
  public record Report(List<String> changes, String crashed, Duration crashLeave, Set<String> finalMembers) {
  }

  @Override
  public Integer call() throws Exception {
    return run(System.out).finalMembers().isEmpty() ? 0 : 1;
  }

  /** Runs the scenario, printing the dashboard to {@code out}. */
  public Report run(PrintStream out) throws InterruptedException {
    if (members < 1 || ttlSeconds < 1) {
      throw new IllegalArgumentException("--members and --ttl-s must be positive");
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    try (Target target = Target.open(endpoint); DkvClient client = target.connect()) {
      String prefix = "examples/presence/" + UUID.randomUUID().toString().substring(0, 8) + "/members/";
      out.printf("presence: %d members here and 1 in its own process, lease TTL %d s, against %s%n", members,
          ttlSeconds, target);
      List<String> changes = new CopyOnWriteArrayList<>();
      Set<String> current = new TreeSet<>();
      List<DkvClient> memberClients = new ArrayList<>();
      List<Presence.Registration> registrations = new ArrayList<>();
      Process crasher = null;
      try (Subscription dashboard = client.presence(prefix).watch(now -> dashboard(out, now, current, changes))) {
        for (int i = 1; i <= members; i++) {
          DkvClient c = target.connect();                    // each member has its own connection, as a process would
          memberClients.add(c);
          registrations.add(c.presence(prefix).register("member-" + i, "in-process",
              Duration.ofSeconds(ttlSeconds)));
          String id = "member-" + i;
          awaitOrFail(() -> changes.contains("+" + id), deadline, id + " joining");
        }
        String crashed = "member-" + (members + 1);
        crasher = start(out, target.endpoint(), prefix, crashed);
        awaitOrFail(() -> changes.contains("+" + crashed), deadline, crashed + " joining");

        out.println("member-1 leaves cleanly (revokes its lease)");
        registrations.get(0).close();
        awaitOrFail(() -> changes.contains("-member-1"), deadline, "member-1 leaving");

        out.printf("killing %s (pid %d) with SIGKILL: it cannot say goodbye%n", crashed, crasher.pid());
        long killedAt = System.nanoTime();
        crasher.destroyForcibly().waitFor();
        awaitOrFail(() -> changes.contains("-" + crashed), deadline, crashed + "'s lease expiring");
        Duration crashLeave = Duration.ofNanos(System.nanoTime() - killedAt);
        out.printf("%s left %d ms after the kill (lease TTL %d s)%n", crashed, crashLeave.toMillis(), ttlSeconds);

        out.println("the other members leave");
        for (int i = 1; i < registrations.size(); i++) {
          registrations.get(i).close();
          String id = "member-" + (i + 1);
          awaitOrFail(() -> changes.contains("-" + id), deadline, id + " leaving");
        }
        return new Report(List.copyOf(changes), crashed, crashLeave, client.presence(prefix).members().keySet());
      } finally {
        memberClients.forEach(DkvClient::close);
        if (crasher != null) {
          crasher.destroyForcibly().waitFor();
        }
      }
    }
  }

  // region dashboard
  /** One line per join or leave: the time, what changed, and who is there now. */
  private static void dashboard(PrintStream out, Map<String, String> now, Set<String> before, List<String> changes) {
    for (String id : now.keySet()) {
      if (!before.contains(id)) {
        changes.add("+" + id);
        out.printf("%s  + %-10s members: %s%n", LocalTime.now().format(TIME), id, String.join(" ", now.keySet()));
      }
    }
    for (String id : before) {
      if (!now.containsKey(id)) {
        changes.add("-" + id);
        out.printf("%s  - %-10s members: %s%n", LocalTime.now().format(TIME), id, String.join(" ", now.keySet()));
      }
    }
    before.clear();
    before.addAll(now.keySet());
  }
  // endregion

  private Process start(PrintStream out, String endpoint, String prefix, String id) {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = List.of(java, "-Xmx96m", "-XX:TieredStopAtLevel=1", "-cp",
        System.getProperty("java.class.path"), PresenceMember.class.getName(), "--endpoint", endpoint,
        "--prefix", prefix, "--id", id, "--ttl-s", Integer.toString(ttlSeconds));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      Thread pipe = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            out.println("  [pid " + p.pid() + "] " + line);
          }
        } catch (IOException e) {
          // the process ended
        }
      }, "output-of-" + id);
      pipe.setDaemon(true);
      pipe.start();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a member process: " + cmd, e);
    }
  }

  private static void awaitOrFail(BooleanSupplier condition, long deadline, String what) throws InterruptedException {
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("gave up waiting for " + what);
      }
      Thread.sleep(20); // a program polling its own in-memory state; not a test
    }
  }
}
