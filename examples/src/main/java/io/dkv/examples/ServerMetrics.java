package io.dkv.examples;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * Reads counters from a server's Prometheus endpoint: the same names on dkv-server and etcd, so an example
 * can report what the server itself counted.
 */
public final class ServerMetrics {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ServerMetrics() {
  }

  /**
   * How many calls of the gRPC method {@code method} (e.g. "Range") the server has started, summed over its
   * services: {@code grpc_server_started_total{grpc_method="Range",...}}. Empty if the metrics cannot be read.
   */
  public static OptionalLong started(String metricsUrl, String method) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(metricsUrl))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return OptionalLong.empty();
      }
      long sum = 0;
      boolean found = false;
      String label = "grpc_method=\"" + method + "\"";
      for (String line : r.body().split("\n")) {
        if (line.startsWith("grpc_server_started_total{") && line.contains(label)) {
          sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
          found = true;
        }
      }
      return found ? OptionalLong.of(sum) : OptionalLong.of(0);
    } catch (IOException | IllegalArgumentException e) {
      return OptionalLong.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalLong.empty();
    }
  }
}
