package io.dkv.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.dkv.server.mvcc.EtcdError;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.PutRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandsTest {

  @Test
  void aBatchOfCommandsAndAnswersComesBackPartByPartAndASingleCommandIsNotWrapped() {
    ByteString put = Commands.encode(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build());
    ByteString del = Commands.encode(DeleteRangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build());
    ByteString error = Commands.encodeError(EtcdError.LEASE_NOT_FOUND);
    assertSame(put, Commands.batch(List.of(put)));
    assertEquals(List.of(put), Commands.unbatch(put));
    List<ByteString> parts = List.of(put, del, error, ByteString.EMPTY, put);
    assertEquals(parts, Commands.unbatch(Commands.batch(parts)));
    assertEquals(List.of(ByteString.EMPTY), Commands.unbatch(ByteString.EMPTY));
  }

  @Test
  void aTruncatedBatchIsDamageNotAShorterBatch() {
    ByteString put = Commands.encode(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("key")).build());
    ByteString batch = Commands.batch(List.of(put, put));
    assertThrows(IllegalStateException.class, () -> Commands.unbatch(batch.substring(0, batch.size() - 2)));
  }
}
