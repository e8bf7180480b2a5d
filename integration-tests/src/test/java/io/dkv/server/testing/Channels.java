package io.dkv.server.testing;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Plain-text gRPC channels to a local server, for tests. A port registered with {@link #shiftRevisions} (a
 * member of a shared cluster, for the scenario running on it now) gets channels through a {@link RevisionShift}.
 */
public final class Channels {

  private static final Map<Integer, Long> OFFSETS = new ConcurrentHashMap<>();

  private Channels() {}

  public static ManagedChannel open(int port) {
    Long offset = OFFSETS.get(port);
    List<ClientInterceptor> interceptors = offset == null ? List.of() : List.of(new RevisionShift(offset));
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .maxInboundMessageSize(64 * 1024 * 1024).intercept(interceptors).build();
  }

  /** Channels opened to {@code port} from now on move revisions by {@code offset} (see {@link RevisionShift}). */
  public static void shiftRevisions(int port, long offset) {
    OFFSETS.put(port, offset);
  }

  /** The offset registered for {@code port}, 0 if none. */
  public static long offset(int port) {
    return OFFSETS.getOrDefault(port, 0L);
  }

  /** Channels opened to {@code port} from now on do not move revisions. */
  public static void clearShift(int port) {
    OFFSETS.remove(port);
  }

  public static void close(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
