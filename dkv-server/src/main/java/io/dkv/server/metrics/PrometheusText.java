package io.dkv.server.metrics;

/** Prometheus' text exposition format (version 0.0.4), written line by line. */
final class PrometheusText {
  private final StringBuilder out = new StringBuilder(4096);

  void type(String name, String help, String type) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  void sample(String name, String labels, long value) {
    out.append(name);
    if (!labels.isEmpty()) {
      out.append('{').append(labels).append('}');
    }
    out.append(' ').append(value).append('\n');
  }

  @Override
  public String toString() {
    return out.toString();
  }
}
