package io.dkv.server.testing;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.Set;

/**
 * Makes a server whose history did not start with the scenario look fresh to it: every revision a request
 * carries is moved up by {@code offset}, every revision a response carries moved down by it, so that a scenario
 * written for a fresh server (revision 1 empty, the first write at 2) runs unchanged on a long-lived cluster whose
 * keyspace was emptied at revision {@code offset + 1}. Revisions are the etcd API's int64 fields of these names;
 * zero and negative values (latest, none, invalid) pass unchanged.
 */
public final class RevisionShift implements ClientInterceptor {

  private static final Set<String> REVISION_FIELDS = Set.of("revision", "start_revision", "create_revision",
      "mod_revision", "min_mod_revision", "max_mod_revision", "min_create_revision", "max_create_revision",
      "compact_revision", "rev");

  private final long offset;

  public RevisionShift(long offset) {
    this.offset = offset;
  }

  /** {@code m} with every positive revision moved by {@code by}. */
  public static Message shift(Message m, long by) {
    Message.Builder b = m.toBuilder();
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        if (f.isRepeated()) {
          for (int i = 0; i < m.getRepeatedFieldCount(f); i++) {
            b.setRepeatedField(f, i, shift((Message) m.getRepeatedField(f, i), by));
          }
        } else if (m.hasField(f)) {
          b.setField(f, shift((Message) m.getField(f), by));
        }
      } else if (f.getJavaType() == FieldDescriptor.JavaType.LONG && !f.isRepeated()
          && REVISION_FIELDS.contains(f.getName())) {
        long v = (Long) m.getField(f);
        if (v > 0) {
          b.setField(f, v + by);
        }
      }
    }
    return b.build();
  }

  @SuppressWarnings("unchecked")
  private <T> T shifted(T message, long by) {
    return message instanceof Message m ? (T) shift(m, by) : message;
  }

  @Override
  public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
    return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<A> listener, Metadata headers) {
        super.start(new SimpleForwardingClientCallListener<>(listener) {
          @Override
          public void onMessage(A message) {
            super.onMessage(shifted(message, -offset));
          }
        }, headers);
      }

      @Override
      public void sendMessage(Q message) {
        super.sendMessage(shifted(message, offset));
      }
    };
  }
}
