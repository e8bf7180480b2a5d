package io.dkv.server;

import io.dkv.server.testing.CompatServers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jetcd, the Java etcd client, used the same way against dkv-server and a real etcd gives the same results. */
class JetcdCompatTest {

  @TempDir
  Path dir;

  @Test
  void jetcdSeesTheSameStoreOnBoth() throws Exception {
    CompatServers.assertSameOnBoth(dir, port -> scenario("http://127.0.0.1:" + port));
  }

  private static ByteSequence b(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static String show(GetResponse r) {
    StringBuilder sb = new StringBuilder("rev=" + r.getHeader().getRevision() + " count=" + r.getCount()
        + " more=" + r.isMore());
    for (KeyValue kv : r.getKvs()) {
      sb.append(" [").append(kv.getKey()).append('=').append(kv.getValue()).append(" c=")
          .append(kv.getCreateRevision()).append(" m=").append(kv.getModRevision()).append(" v=")
          .append(kv.getVersion()).append(']');
    }
    return sb.toString();
  }

  private static String error(Runnable r) {
    try {
      r.run();
      return "no error";
    } catch (RuntimeException e) {
      Throwable c = e.getCause() instanceof ExecutionException ee ? ee.getCause() : e.getCause();
      return String.valueOf(c == null ? e.getMessage() : c.getMessage());
    }
  }

  private static List<String> scenario(String endpoint) throws Exception {
    List<String> out = new ArrayList<>();
    try (Client client = Client.builder().endpoints(endpoint).build()) {
      KV kv = client.getKVClient();
      for (int i = 0; i < 5; i++) {
        out.add("put rev=" + kv.put(b("job/" + i), b("v" + i)).get(10, TimeUnit.SECONDS).getHeader().getRevision());
      }
      var prev = kv.put(b("job/1"), b("v1b"), PutOption.builder().withPrevKV().build()).get(10, TimeUnit.SECONDS);
      out.add("prev=" + prev.getPrevKv().getValue() + " rev=" + prev.getHeader().getRevision());
      out.add(show(kv.get(b("job/"), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS)));
      out.add(show(kv.get(b("job/"), GetOption.builder().isPrefix(true).withLimit(2)
          .withSortField(GetOption.SortTarget.MOD).withSortOrder(GetOption.SortOrder.DESCEND).build())
          .get(10, TimeUnit.SECONDS)));
      out.add(show(kv.get(b("job/1"), GetOption.builder().withRevision(3).build()).get(10, TimeUnit.SECONDS)));
      TxnResponse t = kv.txn()
          .If(new Cmp(b("job/2"), Cmp.Op.EQUAL, CmpTarget.version(1)))
          .Then(Op.put(b("job/2"), b("claimed"), PutOption.DEFAULT), Op.get(b("job/2"), GetOption.DEFAULT))
          .Else(Op.get(b("job/2"), GetOption.DEFAULT))
          .commit().get(10, TimeUnit.SECONDS);
      out.add("txn ok=" + t.isSucceeded() + " rev=" + t.getHeader().getRevision() + " "
          + show(t.getGetResponses().get(0)));
      var del = kv.delete(b("job/"), DeleteOption.builder().isPrefix(true).withPrevKV(true).build())
          .get(10, TimeUnit.SECONDS);
      out.add("deleted=" + del.getDeleted() + " prev=" + del.getPrevKvs().size() + " rev="
          + del.getHeader().getRevision());
      out.add("compact rev=" + kv.compact(5, CompactOption.builder().withCompactPhysical(true).build())
          .get(10, TimeUnit.SECONDS).getHeader().getRevision());
      out.add("compacted read: " + error(() -> kv.get(b("job/1"), GetOption.builder().withRevision(3).build()).join()));
      out.add("future read: " + error(() -> kv.get(b("job/1"), GetOption.builder().withRevision(99).build()).join()));
      out.add(show(kv.get(b("job/1"), GetOption.builder().withRevision(7).build()).get(10, TimeUnit.SECONDS)));
    }
    return out;
  }
}
