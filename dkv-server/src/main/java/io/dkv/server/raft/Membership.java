package io.dkv.server.raft;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberListResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberRemoveResponse;
import io.etcd.jetcd.api.MemberUpdateRequest;
import io.etcd.jetcd.api.MemberUpdateResponse;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The membership operations as the leader runs them, one at a time: etcd's checks before a change (the quorum
 * rules of {@code --strict-reconfig-check}, the learner's sync for a promotion), the change through the log
 * ({@link MembershipLog} applies it on every member), then Ratis's configuration brought in line with it.
 *
 * <p>Etcd adds a member to Raft when it is added; Ratis adds a peer only once it runs and has caught up (it
 * bootstraps new peers before the configuration changes). So a member added here is in the membership at once
 * (listed as unstarted, as etcd lists it) and joins Ratis's configuration when it starts and asks to be
 * admitted ({@link #admit}): as a listener (Ratis's non-voting role) if it is a learner, as a follower if not.
 * Removal, promotion and a changed peer URL change Ratis's configuration before they are answered.
 */
final class Membership implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Membership.class);
  /** Etcd's HealthInterval: a member heard from within it counts as connected. */
  private static final long HEALTH_INTERVAL_MS = 5_000;
  /** Etcd's readyPercent: a learner in sync has at least this part of the leader's log. */
  private static final double READY_PERCENT = 0.9;

  /** What this needs of the Raft member. */
  interface Raft {
    RaftServer.Division division();

    long selfId();

    CompletableFuture<com.google.protobuf.Message> propose(com.google.protobuf.Message command);

    CompletableFuture<RaftClientReply> setConfiguration(SetConfigurationRequest.Arguments arguments);
  }

  private final Raft raft;
  private final Members members;
  private final Clock clock;
  private final ExecutorService serial = Executors.newSingleThreadExecutor(
      new ThreadFactoryBuilder().setNameFormat("dkv-membership").setDaemon(true).build());

  Membership(Raft raft, Members members, Clock clock) {
    this.raft = raft;
    this.members = members;
    this.clock = clock;
  }

  /** Whether {@code m} is a membership request this runs (on the leader). */
  static boolean handles(com.google.protobuf.Message m) {
    return m instanceof MemberAddRequest || m instanceof MemberRemoveRequest || m instanceof MemberUpdateRequest
        || m instanceof com.google.protobuf.UInt64Value || m instanceof Member;
  }

  /** Runs {@code request} (see {@link #handles}), after the ones before it. */
  CompletableFuture<com.google.protobuf.Message> handle(com.google.protobuf.Message request) {
    return CompletableFuture.supplyAsync(() -> {
      if (!raft.division().getInfo().isLeader()) {
        throw EtcdError.NOT_LEADER.exception();
      }
      if (request instanceof MemberAddRequest r) {
        return add(r);
      } else if (request instanceof MemberRemoveRequest r) {
        return remove(r);
      } else if (request instanceof MemberUpdateRequest r) {
        return update(r);
      } else if (request instanceof com.google.protobuf.UInt64Value r) {
        return promote(r);
      }
      return admit((Member) request);
    }, serial);
  }

  /** The members, as etcd's MemberList gives them: sorted by id. */
  List<Member> list() {
    Map<Long, Member> out = new HashMap<>();
    for (Member m : members.all()) {
      out.put(m.getID(), m);
    }
    try {
      RaftConfiguration conf = raft.division().getRaftConf();
      for (RaftPeer p : conf.getCurrentPeers()) {
        out.putIfAbsent(id(p), fromConf(p, false));
      }
      for (RaftPeer p : conf.getCurrentPeers(RaftPeerRole.LISTENER)) {
        out.putIfAbsent(id(p), fromConf(p, true));
      }
    } catch (IllegalStateException closed) {
      // this member's Raft group is gone (removed): the log's membership alone
    }
    List<Member> sorted = new ArrayList<>(out.values());
    sorted.removeIf(m -> members.isRemoved(m.getID()));
    sorted.sort((a, b) -> Long.compareUnsigned(a.getID(), b.getID()));
    return sorted;
  }

  /** An initial member in Ratis's configuration that has not published itself yet. */
  private static Member fromConf(RaftPeer p, boolean learner) {
    return Member.newBuilder().setID(id(p)).addPeerURLs("http://" + p.getAddress()).setIsLearner(learner).build();
  }

  static long id(RaftPeer p) {
    return Long.parseUnsignedLong(p.getId().toString(), 16);
  }

  private MemberAddResponse add(MemberAddRequest r) {
    checkUrls(r.getPeerURLsList());
    // etcd's MemberAdd: the id of the peer URLs and the time (as membership.NewMember("", urls, "", &now))
    long id = MemberIds.memberId(r.getPeerURLsList(), "", clock.instant().getEpochSecond());
    if (!r.getIsLearner() && !readyToAddVoter()) {
      throw EtcdError.NOT_ENOUGH_STARTED.exception();
    }
    if (!voters().stream().allMatch(m -> m.getID() == raft.selfId() || connected(m.getID()))) {
      throw EtcdError.UNHEALTHY.exception();
    }
    Member m = Member.newBuilder().setID(id).addAllPeerURLs(r.getPeerURLsList()).setIsLearner(r.getIsLearner())
        .build();
    commit(MemberAddResponse.newBuilder().setMember(m).build());
    log.info("added member {} ({}) at {}", MemberIds.hex(id), r.getIsLearner() ? "learner" : "voter",
        r.getPeerURLsList());
    return MemberAddResponse.newBuilder().setMember(m).addAllMembers(list()).build();
  }

  private MemberRemoveResponse remove(MemberRemoveRequest r) {
    long id = r.getID();
    Member m = find(id);
    if (m == null || !m.getIsLearner()) {
      List<Member> others = voters().stream().filter(v -> v.getID() != id).toList();
      if (others.stream().filter(Members::started).count() < others.size() / 2 + 1) {
        throw EtcdError.NOT_ENOUGH_STARTED.exception();
      }
      boolean downAlready = id != raft.selfId() && !connected(id);
      if (!downAlready) {
        List<Member> voters = voters();
        long active = voters.stream().filter(v -> v.getID() == raft.selfId() || connected(v.getID())).count();
        if (active - 1 < 1 + (voters.size() - 1) / 2) {
          throw EtcdError.UNHEALTHY.exception();
        }
      }
    }
    commit(MemberRemoveRequest.newBuilder().setID(id).build());
    List<Member> after = list();
    reconcile();
    log.info("removed member {}", MemberIds.hex(id));
    return MemberRemoveResponse.newBuilder().addAllMembers(after).build();
  }

  private MemberUpdateResponse update(MemberUpdateRequest r) {
    checkUrls(r.getPeerURLsList());
    commit(r);
    reconcile();
    return MemberUpdateResponse.newBuilder().addAllMembers(list()).build();
  }

  private MemberListResponse promote(com.google.protobuf.UInt64Value r) {
    long id = r.getValue();
    if (find(id) != null) {
      long leaderMatch = lastIndex();
      if (match(id) < leaderMatch * READY_PERCENT) {
        throw EtcdError.LEARNER_NOT_READY.exception();
      }
    }
    List<Member> voters = voters();
    long started = 1 + voters.stream().filter(Members::started).count(); // the learner counts as started
    if (started < (voters.size() + 1) / 2 + 1) {
      throw EtcdError.NOT_ENOUGH_STARTED.exception();
    }
    commit(r);
    reconcile();
    log.info("promoted learner {} to a voting member", MemberIds.hex(id));
    return MemberListResponse.newBuilder().addAllMembers(list()).build();
  }

  /**
   * A member added by MemberAdd has started and asks to join Ratis's configuration: as a listener if it is a
   * learner, as a follower if not. Ratis catches it up before the configuration changes.
   */
  private com.google.protobuf.Message admit(Member joining) {
    Member m = members.get(joining.getID());
    if (m == null) {
      throw EtcdError.MEMBER_NOT_FOUND.exception();
    }
    RaftConfiguration conf = raft.division().getRaftConf();
    RaftPeerId peerId = RaftPeerId.valueOf(MemberIds.hex(m.getID()));
    if (conf.getPeer(peerId, RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER) == null) {
      RaftPeer peer = RaftPeer.newBuilder().setId(peerId).setAddress(address(m))
          .setStartupRole(m.getIsLearner() ? RaftPeerRole.LISTENER : RaftPeerRole.FOLLOWER).build();
      List<RaftPeer> servers = new ArrayList<>(conf.getCurrentPeers());
      List<RaftPeer> listeners = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER));
      (m.getIsLearner() ? listeners : servers).add(peer);
      change(conf, servers, listeners);
      log.info("member {} started: in the Raft configuration as a {}", MemberIds.hex(m.getID()),
          m.getIsLearner() ? "listener (learner)" : "follower");
    }
    return Member.getDefaultInstance();
  }

  /**
   * Brings Ratis's configuration in line with the membership: removed peers out, roles and addresses as recorded,
   * in one configuration change. A promoted learner moves from the listeners to the servers in that change:
   * Ratis keeps the peer (it bootstraps only peers in neither list), its log appender and what the leader knows of
   * its log, and the member's division turns from listener to follower once the new configuration is stable.
   * Taking it out and adding it back instead (as this did) had the leader drop that appender and start a new one
   * from index 0, and left the member between the two steps with a configuration without itself, which a
   * member still catching up could keep: it then stopped applying and, at its first election timeout, closed
   * its division (NOT_IN_CONF).
   */
  void reconcile() {
    RaftConfiguration conf = raft.division().getRaftConf();
    List<RaftPeer> servers = new ArrayList<>();
    List<RaftPeer> listeners = new ArrayList<>();
    List<RaftPeer> all = new ArrayList<>(conf.getCurrentPeers());
    all.addAll(conf.getCurrentPeers(RaftPeerRole.LISTENER));
    boolean changed = false;
    for (RaftPeer p : all) {
      boolean wasListener = conf.getPeer(p.getId(), RaftPeerRole.LISTENER) != null;
      long id = id(p);
      if (members.isRemoved(id)) {
        changed = true;
        continue;
      }
      Member m = members.get(id);
      boolean listener = m == null ? wasListener : m.getIsLearner();
      String address = m == null ? p.getAddress() : address(m);
      RaftPeer want = RaftPeer.newBuilder(p).setAddress(address)
          .setStartupRole(listener ? RaftPeerRole.LISTENER : RaftPeerRole.FOLLOWER).build();
      changed |= listener != wasListener || !Objects.equals(address, p.getAddress());
      (listener ? listeners : servers).add(want);
    }
    if (changed) {
      change(conf, servers, listeners);
    }
  }

  private void change(RaftConfiguration current, List<RaftPeer> servers, List<RaftPeer> listeners) {
    SetConfigurationRequest.Arguments args = SetConfigurationRequest.Arguments.newBuilder()
        .setServersInNewConf(servers)
        .setListenersInNewConf(listeners)
        .setServersInCurrentConf(new ArrayList<>(current.getCurrentPeers()))
        .setListenersInCurrentConf(new ArrayList<>(current.getCurrentPeers(RaftPeerRole.LISTENER)))
        .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
        .build();
    for (int attempt = 0; ; attempt++) {
      try {
        RaftClientReply reply = raft.setConfiguration(args).get(60, TimeUnit.SECONDS);
        if (reply.isSuccess()) {
          return;
        }
        if (!(reply.getException() instanceof ReconfigurationInProgressException) || attempt >= 50) {
          log.warn("changing the Raft configuration failed", reply.getException());
          throw EtcdError.TIMEOUT.exception();
        }
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof ReconfigurationInProgressException) || attempt >= 50) {
          log.warn("changing the Raft configuration failed", e.getCause());
          throw EtcdError.TIMEOUT.exception();
        }
      } catch (java.util.concurrent.TimeoutException e) {
        throw EtcdError.TIMEOUT.exception();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw EtcdError.STOPPED.exception();
      }
      try {
        Thread.sleep(100); // another configuration change is in progress: Ratis allows one at a time
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw EtcdError.STOPPED.exception();
      }
    }
  }

  private void commit(com.google.protobuf.Message command) {
    try {
      raft.propose(command).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof EtcdException ee) {
        throw ee;
      }
      throw e;
    }
  }

  private Member find(long id) {
    return list().stream().filter(m -> m.getID() == id).findFirst().orElse(null);
  }

  private List<Member> voters() {
    return list().stream().filter(m -> !m.getIsLearner()).toList();
  }

  /** Etcd's IsReadyToAddVotingMember. */
  private boolean readyToAddVoter() {
    List<Member> voters = voters();
    int n = voters.size() + 1;
    long started = voters.stream().filter(Members::started).count();
    return (started == 1 && n == 2) || started >= n / 2 + 1;
  }

  /** Whether the leader heard from member {@code id} within etcd's health interval. */
  private boolean connected(long id) {
    var info = raft.division().getInfo().getRoleInfoProto();
    if (!info.hasLeaderInfo()) {
      return false;
    }
    for (ServerRpcProto f : info.getLeaderInfo().getFollowerInfoList()) {
      if (Long.parseUnsignedLong(f.getId().getId().toStringUtf8(), 16) == id) {
        return f.getLastRpcElapsedTimeMs() < HEALTH_INTERVAL_MS;
      }
    }
    return false;
  }

  /**
   * How far member {@code id}'s log matches the leader's, as the leader knows it (etcd's Progress.Match): the
   * leader's last index for itself, 0 for a member not in Ratis's configuration yet.
   */
  private long match(long id) {
    if (id == raft.selfId()) {
      return lastIndex();
    }
    var info = raft.division().getInfo();
    List<ServerRpcProto> followers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
    long[] matches = info.getFollowerMatchIndices(); // the same followers, in the same order
    if (matches.length != followers.size()) {
      return 0; // the configuration changed between the two reads: not known to be in sync
    }
    for (int i = 0; i < matches.length; i++) {
      if (Long.parseUnsignedLong(followers.get(i).getId().getId().toStringUtf8(), 16) == id) {
        return matches[i];
      }
    }
    return 0;
  }

  private long lastIndex() {
    var last = raft.division().getRaftLog().getLastEntryTermIndex();
    return last == null ? 0 : last.getIndex();
  }

  private static void checkUrls(List<String> urls) {
    if (urls.isEmpty()) {
      throw EtcdError.MEMBER_BAD_URLS.exception();
    }
    for (String u : urls) {
      try {
        URI uri = URI.create(u);
        if (uri.getHost() == null || uri.getPort() < 0
            || !List.of("http", "https", "unix", "unixs").contains(uri.getScheme())) {
          throw EtcdError.MEMBER_BAD_URLS.exception();
        }
      } catch (IllegalArgumentException e) {
        throw EtcdError.MEMBER_BAD_URLS.exception();
      }
    }
  }

  /** The Ratis address of a member: its first peer URL's host and port. */
  static String address(Member m) {
    URI u = URI.create(m.getPeerURLs(0));
    return u.getHost() + ":" + u.getPort();
  }

  @Override
  public void close() {
    serial.shutdownNow();
  }
}
