package io.dkv.server.testing;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the same gRPC calls against a server and records what it answered, normalized so that two etcd-API
 * servers with the same history produce the same transcript: header ids and raft term are cleared, errors
 * are written as their status code and message.
 */
public final class Transcript implements AutoCloseable {

  /** One call against the stubs of a server. */
  @FunctionalInterface
  public interface Step {
    Message call(Transcript t);
  }

  public final ManagedChannel channel;
  public final LeaseGrpc.LeaseBlockingStub lease;
  public final KVGrpc.KVBlockingStub kv;
  public final MaintenanceGrpc.MaintenanceBlockingStub maintenance;
  public final ClusterGrpc.ClusterBlockingStub cluster;

  /** The server's port. */
  public final int port;

  public Transcript(int port) {
    this.port = port;
    channel = Channels.open(port);
    kv = KVGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    maintenance = MaintenanceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    cluster = ClusterGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    lease = LeaseGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  public static com.google.protobuf.ByteString bytes(String s) {
    return com.google.protobuf.ByteString.copyFromUtf8(s);
  }

  /** The normalized answers to {@code steps}, one line each, prefixed by the step number. */
  public List<String> run(List<Step> steps) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < steps.size(); i++) {
      String answer;
      try {
        answer = TextFormat.printer().shortDebugString(normalize(steps.get(i).call(this)));
      } catch (StatusRuntimeException e) {
        answer = "ERROR " + e.getStatus().getCode() + ": " + e.getStatus().getDescription();
      }
      out.add("#" + i + " " + answer);
    }
    return out;
  }

  /** Clears what differs between two members with the same data: cluster and member ids, raft term. */
  public static Message normalize(Message m) {
    Message.Builder b = m.toBuilder();
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (f.isRepeated()) {
        for (int i = 0; i < m.getRepeatedFieldCount(f); i++) {
          b.setRepeatedField(f, i, normalize((Message) m.getRepeatedField(f, i)));
        }
      } else if (m.hasField(f)) {
        Message v = (Message) m.getField(f);
        b.setField(f, v instanceof ResponseHeader h
            ? h.toBuilder().clearClusterId().clearMemberId().clearRaftTerm().build()
            : normalize(v));
      }
    }
    return b.build();
  }

  @Override
  public void close() {
    Channels.close(channel);
  }
}
