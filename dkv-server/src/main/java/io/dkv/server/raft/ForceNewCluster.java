package io.dkv.server.raft;

import io.etcd.jetcd.api.MemberRemoveRequest;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.segmented.SegmentedRaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.server.storage.RaftStorageImpl;
import org.apache.ratis.server.storage.RaftStorageMetadata;
import org.apache.ratis.server.storage.StorageImplUtils;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.ProtoUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Etcd's {@code --force-new-cluster} on a member's Raft log, before Ratis opens it, as etcd rewrites its WAL: the
 * entries past the commit index this member knows (or past what its state applied, if that is further) are
 * discarded; then a configuration entry making this member the only voter is appended, followed by a MemberRemove
 * of every other member its configurations and its state's membership name, all in the current term. Ratis then
 * starts on that log: alone in its configuration, the member elects itself (in a newer term), and its first entry
 * as leader commits the appended ones, which every member applies alike, so the removed members are removed from
 * the membership for good (etcd's removed ids). The state (RocksDB) and its checkpoints are kept, and nothing in
 * the log before the new entries changes: the state applies the new entries after its applied index, none
 * twice and none skipped.
 */
final class ForceNewCluster {

  private static final Logger log = LoggerFactory.getLogger(ForceNewCluster.class);

  /** What the rewrite did. */
  record Result(long commitIndex, long discarded, long firstNewIndex, List<Long> removed) {}

  private ForceNewCluster() {}

  /**
   * Rewrites the log of group {@code groupId} under {@code raftDir}.
   *
   * @param self this member as a Raft peer (its address used if its configurations do not have it)
   * @param snapshotIndex the index of the snapshot the state machine reports at start (its latest checkpoint, or
   *     the state itself), -1 if none
   * @param stateIndex the last log index the state applied, -1 if none
   * @param stateTerm the term of that entry
   * @param knownMembers the ids of the state's membership
   */
  static Result rewrite(Path raftDir, RaftGroupId groupId, RaftPeer self, long snapshotIndex, long stateIndex,
      long stateTerm, Collection<Long> knownMembers, RaftProperties props) throws IOException {
    File dir = raftDir.resolve(groupId.getUuid().toString()).toFile();
    RaftStorageImpl storage = StorageImplUtils.newRaftStorage(dir, RaftServerConfigKeys.storageFreeSpaceMin(props),
        RaftStorage.StartupOption.RECOVER, RaftServerConfigKeys.Log.corruptionPolicy(props));
    storage.initialize();
    try {
      Set<Long> others = new TreeSet<>(Long::compareUnsigned);
      RaftPeer[] selfInConf = {null};
      RaftConfiguration stored = storage.readRaftConfiguration();
      if (stored != null) {
        stored.getAllPeers().forEach(p -> selfInConf[0] = note(p, self, others, selfInConf[0]));
      }
      SegmentedRaftLog raftLog = SegmentedRaftLog.newBuilder()
          .setMemberId(RaftGroupMemberId.valueOf(self.getId(), groupId))
          .setStorage(storage)
          .setSnapshotIndexSupplier(() -> snapshotIndex)
          .setProperties(props)
          .build();
      try {
        raftLog.open(snapshotIndex, e -> {
          if (e.hasConfigurationEntry()) {
            RaftConfigurationProto c = e.getConfigurationEntry();
            List<RaftPeerProto> peers = new ArrayList<>(c.getPeersList());
            peers.addAll(c.getOldPeersList());
            peers.addAll(c.getListenersList());
            peers.addAll(c.getOldListenersList());
            for (RaftPeerProto p : peers) {
              selfInConf[0] = note(ProtoUtils.toRaftPeer(p), self, others, selfInConf[0]);
            }
          }
        });
        for (long id : knownMembers) {
          if (id != Membership.id(self)) {
            others.add(id);
          }
        }
        // etcd: Commit = max(HardState.Commit, consistent index); the entries after it are discarded
        long commit = Math.max(raftLog.getLastCommittedIndex(), Math.max(snapshotIndex, stateIndex));
        TermIndex last = raftLog.getLastEntryTermIndex();
        long discarded = 0;
        if (last != null && last.getIndex() > commit) {
          discarded = last.getIndex() - commit;
          log.info("discarding uncommitted Raft log entries {} to {} (commit index {})", commit + 1,
              last.getIndex(), commit);
          raftLog.truncate(commit + 1).get();
        }
        RaftStorageMetadata meta = raftLog.loadMetadata();
        TermIndex kept = raftLog.getLastEntryTermIndex();
        long term = Math.max(Math.max(meta.getTerm(), stateTerm), kept == null ? 0 : kept.getTerm());
        if (term != meta.getTerm()) {
          raftLog.persistMetadata(RaftStorageMetadata.valueOf(term, meta.getVotedFor()));
        }
        long first = raftLog.getNextIndex();
        RaftPeer alone = selfInConf[0] != null ? selfInConf[0] : self;
        List<LogEntryProto> entries = new ArrayList<>();
        entries.add(LogEntryProto.newBuilder().setTerm(term).setIndex(first)
            .setConfigurationEntry(RaftConfigurationProto.newBuilder().addPeers(
                RaftPeer.newBuilder(alone).setStartupRole(org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER)
                    .build().getRaftPeerProto()))
            .build());
        ClientId client = ClientId.randomId();
        long callId = 0;
        for (long id : others) {
          com.google.protobuf.ByteString command = Commands.encode(MemberRemoveRequest.newBuilder().setID(id).build());
          entries.add(LogEntryProto.newBuilder().setTerm(term).setIndex(first + entries.size())
              .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder()
                  .setClientId(client.toByteString())
                  .setCallId(++callId)
                  .setLogData(UnsafeByteOperations.unsafeWrap(command.asReadOnlyByteBuffer())))
              .build());
        }
        for (LogEntryProto e : entries) {
          raftLog.appendEntry(e).get();
        }
        return new Result(commit, discarded, first, new ArrayList<>(others));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while rewriting the Raft log in " + dir, e);
      } catch (ExecutionException e) {
        throw new IOException("cannot rewrite the Raft log in " + dir + ": " + e.getCause(), e.getCause());
      } finally {
        raftLog.close();
      }
    } finally {
      storage.close();
    }
  }

  /** Records peer {@code p}: another member's id, or this member's peer as its configuration has it. */
  private static RaftPeer note(RaftPeer p, RaftPeer self, Set<Long> others, RaftPeer selfSoFar) {
    if (p.getId().equals(self.getId())) {
      return p;
    }
    others.add(Membership.id(p));
    return selfSoFar;
  }
}
