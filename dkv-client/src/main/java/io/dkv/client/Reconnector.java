package io.dkv.client;

import io.etcd.jetcd.Client;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a server that came back within half a second. gRPC waits between connection attempts 1 s doubling to
 * 120 s (with jitter), and offers no public way to change that; so while the channel has no server
 * ({@link ConnectivityState#TRANSIENT_FAILURE}) this class cuts each wait short with
 * {@link ManagedChannel#resetConnectBackoff()} after {@link #MIN_DELAY} doubling to {@link #MAX_DELAY} (each delay
 * with random jitter between half and all of it): two or three connection attempts per endpoint per second, during
 * an outage of any length, so a returning server is found within half a second. Once connected, the next outage starts from {@link #MIN_DELAY} again.
 *
 * <p>jetcd does not expose its channel; it is read from jetcd's {@code ClientImpl} by reflection (tested in
 * {@code ReconnectorTest}, so an upgrade of jetcd that breaks it fails the build). Should that fail at run time,
 * the client logs it once and keeps gRPC's own reconnect backoff.
 */
final class Reconnector {

  static final Duration MIN_DELAY = Duration.ofMillis(100);
  static final Duration MAX_DELAY = Duration.ofMillis(500);

  private static final Logger log = LoggerFactory.getLogger(Reconnector.class);

  private final ManagedChannel channel;
  private final ScheduledExecutorService scheduler;
  private final String endpoints;
  private long delayNanos = MIN_DELAY.toNanos(); // only touched by the scheduler's one thread
  private volatile int resets;

  private Reconnector(ManagedChannel channel, ScheduledExecutorService scheduler, String endpoints) {
    this.channel = channel;
    this.scheduler = scheduler;
    this.endpoints = endpoints;
  }

  /**
   * Starts watching the channel of {@code jetcd} (it runs on {@code scheduler}, until the channel or the
   * scheduler shuts down); empty if the channel cannot be found.
   */
  static Optional<Reconnector> start(Client jetcd, ScheduledExecutorService scheduler, Endpoints endpoints) {
    ManagedChannel channel;
    try {
      channel = channelOf(jetcd);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("cannot reach jetcd's gRPC channel ({}); after an outage the client reconnects on gRPC's backoff"
          + " (1 s doubling to 120 s) instead of within half a second", e.toString());
      return Optional.empty();
    }
    Reconnector r = new Reconnector(channel, scheduler, endpoints.toString());
    r.submit(r::check, 0);
    return Optional.of(r);
  }

  /** jetcd's channel: {@code ClientImpl.connectionManager.getChannel()} (creates it, not connecting yet). */
  static ManagedChannel channelOf(Client jetcd) throws ReflectiveOperationException {
    Field f = jetcd.getClass().getDeclaredField("connectionManager");
    f.setAccessible(true);
    Object manager = f.get(jetcd);
    Method m = manager.getClass().getDeclaredMethod("getChannel");
    m.setAccessible(true);
    return (ManagedChannel) m.invoke(manager);
  }

  /** Whether the channel has a connection to some member now. */
  boolean connected() {
    return channel.getState(false) == ConnectivityState.READY;
  }

  /** How many times an outage's wait was cut short so far; for tests. */
  int resets() {
    return resets;
  }

  private void check() {
    ConnectivityState state = channel.getState(false);
    if (state == ConnectivityState.SHUTDOWN) {
      return;
    }
    if (state == ConnectivityState.TRANSIENT_FAILURE) {
      long d = delayNanos;
      delayNanos = Math.min(delayNanos * 2, MAX_DELAY.toNanos());
      // jitter (between half and all of the delay): clients that lost a server together do not all call on it
      // in the same millisecond when it is back
      submit(this::retry, ThreadLocalRandom.current().nextLong(d / 2, d + 1));
      return;
    }
    if (state == ConnectivityState.READY) {
      delayNanos = MIN_DELAY.toNanos();
    }
    // the callback runs in gRPC's synchronization context: hand it over at once
    channel.notifyWhenStateChanged(state, () -> submit(this::check, 0));
  }

  private void retry() {
    if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
      channel.resetConnectBackoff();
      resets++;
      log.debug("no server reachable at {}; connecting again now", endpoints);
    }
    check();
  }

  private void submit(Runnable task, long delayNanos) {
    try {
      scheduler.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closed) {
      // the client is closed
    }
  }
}
