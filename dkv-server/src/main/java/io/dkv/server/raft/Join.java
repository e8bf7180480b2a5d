package io.dkv.server.raft;

import io.dkv.server.mvcc.EtcdError;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.GroupListReply;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a member started with {@code --initial-cluster-state existing} learns who it is, as etcd's joining member
 * does (it fetches the cluster's members from the peers of {@code --initial-cluster} and finds itself by its peer
 * URLs): it asks the other peers of {@code --initial-cluster}, on their peer port (Ratis), for the Raft group
 * and then the member list, and takes the id MemberAdd gave the member with its peer URLs, and the cluster's id.
 */
final class Join {

  private static final Logger log = LoggerFactory.getLogger(Join.class);
  private static final RaftPeerId PROBE = RaftPeerId.valueOf("join-probe");

  /**
   * What the running cluster told a joining member: its id, the cluster's, the Raft group, the started members'
   * peers, and whether MemberAdd added it as a learner.
   */
  record Found(long memberId, long clusterId, RaftGroupId groupId, List<RaftPeer> peers, boolean learner) {}

  private Join() {}

  /**
   * Asks the peers of {@code cfg}'s initial cluster (all but this member) until one answers, for up to
   * {@code timeout}.
   *
   * @throws IOException naming the peers asked, if none answered or none knows this member's peer URLs
   */
  static Found lookup(ClusterConfig cfg, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> asked = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : cfg.initialCluster().entrySet()) {
      if (!e.getKey().equals(cfg.name())) {
        asked.addAll(e.getValue());
      }
    }
    String why = "no other member in --initial-cluster";
    while (System.nanoTime() < deadline) {
      for (String url : asked) {
        try {
          Found f = ask(cfg, url);
          if (f != null) {
            log.info("joining cluster {} as member {} (peers answered at {})", MemberIds.hex(f.clusterId()),
                MemberIds.hex(f.memberId()), url);
            return f;
          }
          why = "the cluster has no member with peer URLs " + cfg.advertisePeerUrls()
              + " (add it first: etcdctl member add)";
        } catch (IOException | RuntimeException e) {
          why = url + ": " + e.getMessage();
          log.debug("asking {} for the cluster's members", url, e);
        }
      }
      try {
        Thread.sleep(500); // a start-up poll of peers that may not answer yet, not a test's synchronisation
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new IOException("could not retrieve cluster information from the given URLs " + asked + ": " + why);
  }

  private static Found ask(ClusterConfig cfg, String url) throws IOException {
    URI u = URI.create(url);
    RaftPeer probe = RaftPeer.newBuilder().setId(PROBE).setAddress(u.getHost() + ":" + u.getPort()).build();
    RaftGroupId groupId;
    try (RaftClient c = client(RaftGroup.valueOf(RaftGroupId.randomId(), probe))) {
      GroupListReply groups = c.getGroupManagementApi(PROBE).list();
      if (groups.getGroupIds().isEmpty()) {
        throw new IOException("no Raft group");
      }
      groupId = groups.getGroupIds().get(0);
    }
    try (RaftClient c = client(RaftGroup.valueOf(groupId, probe))) {
      Message q = Message.valueOf(UnsafeByteOperations.unsafeWrap(
          Commands.encode(MemberListRequest.getDefaultInstance()).asReadOnlyByteBuffer()));
      RaftClientReply reply = c.io().sendStaleRead(q, 0, PROBE);
      if (!reply.isSuccess()) {
        throw new IOException(String.valueOf(reply.getException()));
      }
      com.google.protobuf.ByteString answer =
          com.google.protobuf.ByteString.copyFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
      EtcdError error = Commands.error(answer);
      if (error != null) {
        throw error.exception();
      }
      MemberListResponse list = (MemberListResponse) Commands.decode(answer);
      Member self = null;
      List<RaftPeer> peers = new ArrayList<>();
      for (Member m : list.getMembersList()) {
        if (new HashSet<>(m.getPeerURLsList()).equals(new HashSet<>(cfg.advertisePeerUrls()))) {
          self = m;
        } else if (Members.started(m)) {
          peers.add(RaftPeer.newBuilder().setId(MemberIds.hex(m.getID())).setAddress(Membership.address(m)).build());
        }
      }
      return self == null ? null : new Found(self.getID(), list.getHeader().getClusterId(), groupId, peers,
          self.getIsLearner());
    }
  }

  private static RaftClient client(RaftGroup group) {
    RaftProperties p = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    return RaftClient.newBuilder().setProperties(p).setRaftGroup(group).setRetryPolicy(RetryPolicies.noRetry())
        .build();
  }
}
