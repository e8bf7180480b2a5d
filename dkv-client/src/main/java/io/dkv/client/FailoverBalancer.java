package io.dkv.client;

import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.LoadBalancer;
import io.grpc.LoadBalancerProvider;
import io.grpc.LoadBalancerRegistry;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.util.ForwardingLoadBalancer;
import io.grpc.util.ForwardingLoadBalancerHelper;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC's {@code round_robin} over the members, minus the members that stopped answering. A member that is
 * paused, hung or cut off by a network that drops packets keeps its connection open, so gRPC still counts it
 * READY until its keep-alive gives up on the connection ({@link CallPolicy#KEEPALIVE_TIME} +
 * {@link CallPolicy#KEEPALIVE_TIMEOUT}), and sends it a third of the calls meanwhile. Here each connected member
 * is asked for its status every {@link #PROBE_EVERY}; one that has not answered within {@link #PROBE_TIMEOUT} is
 * <em>suspect</em>, and new calls and streams go to the other members (to a suspect one only if every member is
 * suspect), until it answers again. Any answer counts, an error status included: the probe asks whether the
 * member is alive, not whether it is healthy ({@code etcdserver: no leader} is left to the require-leader streams
 * and the calls themselves).
 *
 * <p>Registered once, under {@link #POLICY}, in gRPC's default registry; each channel gets its own instance.
 */
final class FailoverBalancer extends ForwardingLoadBalancer {

  static final String POLICY = "dkv_round_robin_failover";
  static final Duration PROBE_EVERY = Duration.ofSeconds(1);
  static final Duration PROBE_TIMEOUT = Duration.ofMillis(1500);

  private static final Logger log = LoggerFactory.getLogger(FailoverBalancer.class);
  private static volatile boolean registered;

  private final LoadBalancer delegate;
  private final Helper helper;
  /** Every subchannel this balancer created, with whether it is suspect. Touched by the probes and the pickers. */
  private final Map<Subchannel, Boolean> suspect = new ConcurrentHashMap<>();
  private final Set<Subchannel> probing = ConcurrentHashMap.newKeySet();
  private final ScheduledFuture<?> probes;

  private FailoverBalancer(LoadBalancer.Helper channelHelper) {
    this.helper = new Helper(channelHelper);
    this.delegate = LoadBalancerRegistry.getDefaultRegistry().getProvider("round_robin").newLoadBalancer(helper);
    ScheduledExecutorService timer = channelHelper.getScheduledExecutorService();
    long every = PROBE_EVERY.toMillis();
    this.probes = timer.scheduleWithFixedDelay(this::probeAll, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Registers the policy (once per JVM); false if round_robin, which it wraps, is not there (the client then uses
   * plain round_robin).
   */
  static synchronized boolean register() {
    if (!registered) {
      LoadBalancerRegistry registry = LoadBalancerRegistry.getDefaultRegistry();
      if (registry.getProvider("round_robin") == null) {
        return false;
      }
      registry.register(new Provider());
      registered = true;
    }
    return true;
  }

  @Override
  protected LoadBalancer delegate() {
    return delegate;
  }

  @Override
  public void shutdown() {
    probes.cancel(false);
    super.shutdown();
  }

  private void probeAll() {
    for (Subchannel s : suspect.keySet()) {
      if (s instanceof TrackedSubchannel t && t.ready && probing.add(s)) {
        probe(s);
      }
    }
  }

  /** Asks {@code s} for its status; runs on the channel's timer. */
  private void probe(Subchannel s) {
    ClientCall<StatusRequest, StatusResponse> call;
    try {
      call = s.asChannel().newCall(MaintenanceGrpc.getStatusMethod(),
          CallOptions.DEFAULT.withDeadlineAfter(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
    } catch (RuntimeException shutDown) {
      probing.remove(s);
      return;
    }
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        probing.remove(s);
        boolean silent = status.getCode() == Status.Code.DEADLINE_EXCEEDED;
        if (status.getCode() == Status.Code.UNAVAILABLE) {
          return; // not connected: round_robin does not pick it anyway
        }
        Boolean was = suspect.replace(s, silent);
        if (was != null && was != silent) {
          String member = ((TrackedSubchannel) s).member;
          if (silent) {
            log.warn("member {} did not answer within {} ms; sending requests to the other members until it does",
                member, PROBE_TIMEOUT.toMillis());
          } else {
            log.info("member {} answers again; sending requests to it again", member);
          }
        }
      }
    }, new Metadata());
    call.sendMessage(StatusRequest.getDefaultInstance());
    call.halfClose();
    call.request(1);
  }

  /** Creates subchannels (tracked for the probes) and wraps every picker round_robin hands out. */
  private final class Helper extends ForwardingLoadBalancerHelper {
    private final LoadBalancer.Helper delegate;

    Helper(LoadBalancer.Helper delegate) {
      this.delegate = delegate;
    }

    @Override
    protected LoadBalancer.Helper delegate() {
      return delegate;
    }

    @Override
    public Subchannel createSubchannel(CreateSubchannelArgs args) {
      return new TrackedSubchannel(super.createSubchannel(args));
    }

    @Override
    public void updateBalancingState(ConnectivityState state, SubchannelPicker picker) {
      super.updateBalancingState(state, new AvoidingPicker(picker));
    }

    @Override
    public SynchronizationContext getSynchronizationContext() {
      return delegate.getSynchronizationContext();
    }
  }

  /** A subchannel known to the probes from its start to its shutdown. */
  private final class TrackedSubchannel extends io.grpc.util.ForwardingSubchannel {
    private final Subchannel delegate;
    volatile boolean ready;
    /** The member's address(es), for messages (read in the synchronization context, at start). */
    volatile String member = "?";

    TrackedSubchannel(Subchannel delegate) {
      this.delegate = delegate;
    }

    @Override
    protected Subchannel delegate() {
      return delegate;
    }

    @Override
    public void start(SubchannelStateListener listener) {
      suspect.put(this, false);
      super.start(state -> {
        ready = state.getState() == ConnectivityState.READY;
        suspect.replace(this, false); // a new connection starts unsuspected
        listener.onSubchannelState(state);
      });
      member = addresses(delegate.getAddresses());
    }

    @Override
    public void shutdown() {
      suspect.remove(this);
      super.shutdown();
    }
  }

  private static String addresses(io.grpc.EquivalentAddressGroup group) {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (java.net.SocketAddress a : group.getAddresses()) {
      out.add(a instanceof java.net.InetSocketAddress i ? i.getHostString() + ":" + i.getPort() : a.toString());
    }
    return String.join(", ", out);
  }

  /** round_robin's picker, picking again (round_robin moves on each time) while it picks a suspect member. */
  private final class AvoidingPicker extends SubchannelPicker {
    private final SubchannelPicker delegate;

    AvoidingPicker(SubchannelPicker delegate) {
      this.delegate = delegate;
    }

    @Override
    public PickResult pickSubchannel(PickSubchannelArgs args) {
      PickResult first = delegate.pickSubchannel(args);
      PickResult r = first;
      for (int i = suspect.size(); i > 0 && isSuspect(r.getSubchannel()); i--) {
        r = delegate.pickSubchannel(args);
      }
      return isSuspect(r.getSubchannel()) ? first : r;
    }

    private boolean isSuspect(Subchannel s) {
      return s != null && Boolean.TRUE.equals(suspect.get(s));
    }
  }

  private static final class Provider extends LoadBalancerProvider {
    @Override
    public boolean isAvailable() {
      return true;
    }

    @Override
    public int getPriority() {
      return 5;
    }

    @Override
    public String getPolicyName() {
      return POLICY;
    }

    @Override
    public LoadBalancer newLoadBalancer(LoadBalancer.Helper helper) {
      return new FailoverBalancer(helper);
    }
  }
}
