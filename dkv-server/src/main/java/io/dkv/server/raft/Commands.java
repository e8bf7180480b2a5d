package io.dkv.server.raft;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.dkv.server.mvcc.EtcdError;
import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.AlarmResponse;
import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.CompactionResponse;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.DeleteRangeResponse;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrantResponse;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseRevokeResponse;
import io.etcd.jetcd.api.LeaseTimeToLiveRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveResponse;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberRemoveResponse;
import io.etcd.jetcd.api.MemberUpdateRequest;
import io.etcd.jetcd.api.MemberUpdateResponse;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.PutResponse;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * How commands and their answers travel in the Raft log and between members: one tag byte naming the message
 * type, then the message's protobuf bytes. An answer that is an etcd error is the tag {@code ERROR} followed by
 * the error's name. The tags are part of the log format: never renumber them. Membership commands in the log:
 * {@code MemberAddResponse} (the member MemberAdd added, with its id), {@code MemberRemoveRequest},
 * {@code MemberUpdateRequest}, {@code UInt64Value} (MemberPromote of that id: jetcd's etcd API has no
 * MemberPromote messages); the other member messages travel only between
 * members (requests forwarded to the leader, the member list a joining member asks for). {@code AlarmRequest}
 * (ACTIVATE, DEACTIVATE) is in the log, its {@code AlarmResponse} the answer; {@code HashKVRequest} and
 * {@code HashKVResponse} travel between members only (the corruption checks ask the other members' hashes), and
 * so do an {@code Int64Value} query (a member asks the others whether the member with that id was removed) and
 * its {@code BoolValue} answer, and a {@code StringValue} query (whether the asked member, too, lost word from the
 * leader it names: {@link LeaderLoss}) with a {@code BoolValue} answer, an {@code Empty} query (a follower's
 * linearizable read asks the leader for its confirmed read index) with an {@code Int64Value} answer, and a
 * {@code BytesValue} (a follower's batch of commands for the leader's next entry) with the
 * {@link #forwardedAnswers} of the leader.
 */
final class Commands {

  /** Each message type's prototype, at the index that is its tag. */
  private static final List<Message> PROTOTYPES = List.of(
      PutRequest.getDefaultInstance(), DeleteRangeRequest.getDefaultInstance(), TxnRequest.getDefaultInstance(),
      CompactionRequest.getDefaultInstance(), LeaseGrantRequest.getDefaultInstance(),
      LeaseRevokeRequest.getDefaultInstance(), Member.getDefaultInstance(),
      PutResponse.getDefaultInstance(), DeleteRangeResponse.getDefaultInstance(), TxnResponse.getDefaultInstance(),
      CompactionResponse.getDefaultInstance(), LeaseGrantResponse.getDefaultInstance(),
      LeaseRevokeResponse.getDefaultInstance(),
      // not in the log: the queries a member forwards to the leader, and the leader's answers
      LeaseKeepAliveRequest.getDefaultInstance(), LeaseTimeToLiveRequest.getDefaultInstance(),
      LeaseKeepAliveResponse.getDefaultInstance(), LeaseTimeToLiveResponse.getDefaultInstance(),
      // membership: the first four in the log, the others between members only
      MemberAddResponse.getDefaultInstance(), MemberRemoveRequest.getDefaultInstance(),
      MemberUpdateRequest.getDefaultInstance(), com.google.protobuf.UInt64Value.getDefaultInstance(),
      MemberAddRequest.getDefaultInstance(), MemberListRequest.getDefaultInstance(),
      MemberListResponse.getDefaultInstance(), MemberRemoveResponse.getDefaultInstance(),
      MemberUpdateResponse.getDefaultInstance(),
      // alarms: the request in the log, its answer; HashKV between members (the corruption checks)
      AlarmRequest.getDefaultInstance(), AlarmResponse.getDefaultInstance(), HashKVRequest.getDefaultInstance(),
      HashKVResponse.getDefaultInstance(),
      // between members: whether the member with the id of an Int64Value query was removed (a BoolValue)
      com.google.protobuf.Int64Value.getDefaultInstance(), com.google.protobuf.BoolValue.getDefaultInstance(),
      // between members: whether the asked one, too, has not heard from the leader a StringValue names for an
      // election timeout (a BoolValue)
      com.google.protobuf.StringValue.getDefaultInstance(),
      // between members: a follower asks the leader for its confirmed read index (an Int64Value)
      com.google.protobuf.Empty.getDefaultInstance(),
      // between members: a follower's commands (a BytesValue holding their batch) for the leader's next entry
      com.google.protobuf.BytesValue.getDefaultInstance());
  private static final List<Class<? extends Message>> TYPES =
      PROTOTYPES.stream().<Class<? extends Message>>map(Message::getClass).toList();
  private static final byte ERROR = (byte) 0x7f;
  private static final byte BATCH = (byte) 0x7e;

  private Commands() {}

  /** The tagged bytes of {@code m}. */
  static ByteString encode(Message m) {
    int tag = TYPES.indexOf(m.getClass());
    if (tag < 0) {
      throw new IllegalArgumentException("not a replicated message: " + m.getClass().getSimpleName());
    }
    return ByteString.copyFrom(new byte[] {(byte) tag}).concat(m.toByteString());
  }

  /**
   * One entry holding several commands (or answers), each as tagged bytes: the tag {@code BATCH}, then each
   * one's length (a varint) and bytes. A single command is not wrapped.
   */
  static ByteString batch(List<ByteString> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    ByteString.Output out = ByteString.newOutput(1 + parts.stream().mapToInt(p -> p.size() + 5).sum());
    try {
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      coded.write(BATCH);
      for (ByteString p : parts) {
        coded.writeBytesNoTag(p);
      }
      coded.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // not on a ByteString.Output
    }
    return out.toByteString();
  }

  /** The parts of an entry {@link #batch} made: the entry itself if it is not a batch. */
  static List<ByteString> unbatch(ByteString entry) {
    if (entry.isEmpty() || entry.byteAt(0) != BATCH) {
      return List.of(entry);
    }
    List<ByteString> parts = new ArrayList<>();
    try {
      CodedInputStream in = entry.substring(1).newCodedInput();
      while (!in.isAtEnd()) {
        parts.add(in.readBytes());
      }
    } catch (IOException e) {
      throw new IllegalStateException("undecodable batch of commands", e);
    }
    return parts;
  }

  /**
   * The leader's answer to a follower's forwarded commands: the index of an entry this member has applied that
   * holds them all (an {@code Int64Value}), then each command's answer; always a batch of two parts or more.
   */
  static ByteString forwardedAnswers(long appliedIndex, List<ByteString> answers) {
    List<ByteString> parts = new ArrayList<>(answers.size() + 1);
    parts.add(encode(com.google.protobuf.Int64Value.of(appliedIndex)));
    parts.addAll(answers);
    return batch(parts);
  }

  /** The applied index of {@link #forwardedAnswers}. */
  static long forwardedIndex(List<ByteString> parts) {
    return ((com.google.protobuf.Int64Value) decode(parts.get(0))).getValue();
  }

  /** The tagged bytes of an etcd error answer. */
  static ByteString encodeError(EtcdError e) {
    return ByteString.copyFrom(new byte[] {ERROR}).concat(ByteString.copyFromUtf8(e.name()));
  }

  /** The error an answer carries, or null if it carries a message. */
  static EtcdError error(ByteString b) {
    return !b.isEmpty() && b.byteAt(0) == ERROR ? EtcdError.valueOf(b.substring(1).toStringUtf8()) : null;
  }

  /**
   * The message of tagged bytes.
   *
   * @throws IllegalStateException if the bytes are not a message this version wrote (a damaged log entry)
   */
  static Message decode(ByteString b) {
    if (b.isEmpty() || b.byteAt(0) < 0 || b.byteAt(0) >= TYPES.size()) {
      throw new IllegalStateException("unknown command tag " + (b.isEmpty() ? "(empty)" : b.byteAt(0)));
    }
    try {
      return PROTOTYPES.get(b.byteAt(0)).getParserForType().parseFrom(b.substring(1));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("undecodable " + TYPES.get(b.byteAt(0)).getSimpleName(), e);
    }
  }
}
