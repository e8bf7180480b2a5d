package io.dkv.benchmarks;

import io.dkv.benchmarks.KvLoad.Phase;
import java.util.List;
import java.util.Map;

/** The Markdown report of a run: throughput and latency per phase and target, and the goals. */
final class Report {

  private Report() {}

  static String render(Map<String, Map<Phase, LoadPhase.Result>> results, KvLoad options) {
    StringBuilder out = new StringBuilder();
    out.append(String.format("%d s measured after %d s warm-up per phase (and %d s of puts before the first); "
            + "%d keys, %d-byte values; one jetcd client; %s%n%n", options.durationSeconds, options.warmupSeconds,
        options.initialWarmupSeconds, options.keys, options.valueBytes, options.members == 1 ? "one server each"
            : options.members + "-member clusters, the client connected to every member, server CPU summed over "
                + "the members"));
    boolean both = results.containsKey("etcd") && results.containsKey("dkv");

    out.append("| phase |");
    results.keySet().forEach(t -> out.append(' ').append(t).append(" ops/s |"));
    out.append(both ? " dkv/etcd |\n" : "\n");
    out.append("| --- |").append(" ---: |".repeat(results.size() + (both ? 1 : 0))).append('\n');
    for (Phase phase : Phase.values()) {
      out.append("| ").append(phase.label).append(" |");
      results.values().forEach(r -> out.append(String.format(" %,.0f |", r.get(phase).opsPerSecond())));
      if (both) {
        out.append(String.format(" %.2f |", ratio(results, phase)));
      }
      out.append('\n');
    }

    out.append("\nLatency, ms (p50 / p99):\n\n| phase |");
    results.keySet().forEach(t -> out.append(' ').append(t).append(" |"));
    out.append("\n| --- |").append(" ---: |".repeat(results.size())).append('\n');
    for (Phase phase : Phase.values()) {
      out.append("| ").append(phase.label).append(" |");
      results.values().forEach(r -> out.append(String.format(" %.2f / %.2f |", r.get(phase).p50Millis(),
          r.get(phase).p99Millis())));
      out.append('\n');
    }

    out.append("\nCPU per call, µs, of the server process and of the client (this JVM):\n\n| phase |");
    results.keySet().forEach(t -> out.append(' ').append(t).append(" server |"));
    results.keySet().forEach(t -> out.append(" client of ").append(t).append(" |"));
    out.append("\n| --- |").append(" ---: |".repeat(2 * results.size())).append('\n');
    for (Phase phase : Phase.values()) {
      out.append("| ").append(phase.label).append(" |");
      results.values().forEach(r -> out.append(String.format(" %.0f |", r.get(phase).serverCpuMicrosPerOp())));
      results.values().forEach(r -> out.append(String.format(" %.0f |", r.get(phase).clientCpuMicrosPerOp())));
      out.append('\n');
    }

    long errors = results.values().stream().flatMap(m -> m.values().stream())
        .mapToLong(LoadPhase.Result::errors).sum();
    if (errors > 0) {
      out.append(String.format("%n%d calls failed (see the log); failed calls are not counted.%n", errors));
    }

    if (both && options.members > 1) {
      out.append("\n| goal (replicated) | result | met |\n| --- | ---: | --- |\n");
      for (Phase phase : List.of(Phase.PUT_16, Phase.PUT_128, Phase.GET_16)) {
        goal(out, phase.label + " >= 1.5x etcd", ratio(results, phase), "x", ratio(results, phase) >= 1.5);
      }
    } else if (both) {
      double putLatency = results.get("dkv").get(Phase.PUT_1).p50Millis()
          / results.get("etcd").get(Phase.PUT_1).p50Millis();
      out.append("\n| goal | result | met |\n| --- | ---: | --- |\n");
      goal(out, "put throughput at 128 in flight >= 2x etcd", ratio(results, Phase.PUT_128), "x",
          ratio(results, Phase.PUT_128) >= 2);
      goal(out, "get throughput at 16 in flight >= 2x etcd", ratio(results, Phase.GET_16), "x",
          ratio(results, Phase.GET_16) >= 2);
      goal(out, "single-client put p50 <= 0.5x etcd's", putLatency, "x", putLatency <= 0.5);
    }
    return out.toString();
  }

  private static double ratio(Map<String, Map<Phase, LoadPhase.Result>> results, Phase phase) {
    return results.get("dkv").get(phase).opsPerSecond() / results.get("etcd").get(phase).opsPerSecond();
  }

  private static void goal(StringBuilder out, String goal, double value, String unit, boolean met) {
    out.append(String.format("| %s | %.2f%s | %s |%n", goal, value, unit, met ? "yes" : "**no**"));
  }
}
