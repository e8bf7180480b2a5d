package io.dkv.server;

import io.dkv.server.testing.CompatServers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.testing.EtcdProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.election.LeaderKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jetcd's own Lease, Lock and Election clients behave the same against dkv-server as against etcd. */
class JetcdCoordinationTest {

  @TempDir
  Path dir;

  @Test
  void jetcdLeaseLockAndElectionClients() throws Exception {
    CompatServers.assertSameOnBoth(dir, port -> scenario("http://127.0.0.1:" + port));
  }

  private static ByteSequence b(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static List<String> scenario(String endpoint) throws Exception {
    List<String> out = new ArrayList<>();
    try (Client client = Client.builder().endpoints(endpoint).build()) {
      long a = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
      long b = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
      out.add("ttl " + client.getLeaseClient().timeToLive(a, io.etcd.jetcd.options.LeaseOption.DEFAULT)
          .get(10, TimeUnit.SECONDS).getGrantedTTL());
      out.add("keepalive " + client.getLeaseClient().keepAliveOnce(a).get(10, TimeUnit.SECONDS).getTTL());

      // a holds the lock; b waits until a unlocks
      ByteSequence keyA = client.getLockClient().lock(b("jobs"), a).get(10, TimeUnit.SECONDS).getKey();
      out.add("a locked " + keyA.toString().startsWith("jobs/"));
      CompletableFuture<io.etcd.jetcd.lock.LockResponse> waiting = client.getLockClient().lock(b("jobs"), b);
      out.add("b waits " + !waiting.isDone());
      client.getLockClient().unlock(keyA).get(10, TimeUnit.SECONDS);
      ByteSequence keyB = waiting.get(10, TimeUnit.SECONDS).getKey();
      out.add("b locked " + !keyB.equals(keyA));
      client.getLockClient().unlock(keyB).get(10, TimeUnit.SECONDS);

      // election: a leads, proclaims, resigns; then b leads
      LeaderKey leaderA = client.getElectionClient().campaign(b("leader"), a, b("a-1")).get(10, TimeUnit.SECONDS)
          .getLeader();
      out.add("leader " + client.getElectionClient().leader(b("leader")).get(10, TimeUnit.SECONDS).getKv()
          .getValue());
      client.getElectionClient().proclaim(leaderA, b("a-2")).get(10, TimeUnit.SECONDS);
      out.add("proclaimed " + client.getElectionClient().leader(b("leader")).get(10, TimeUnit.SECONDS).getKv()
          .getValue());
      CompletableFuture<io.etcd.jetcd.election.CampaignResponse> second =
          client.getElectionClient().campaign(b("leader"), b, b("b-1"));
      client.getElectionClient().resign(leaderA).get(10, TimeUnit.SECONDS);
      second.get(10, TimeUnit.SECONDS);
      out.add("after resign " + client.getElectionClient().leader(b("leader")).get(10, TimeUnit.SECONDS).getKv()
          .getValue());

      client.getLeaseClient().revoke(b).get(10, TimeUnit.SECONDS);
      out.add("after revoke " + client.getKVClient().get(b("leader"),
          io.etcd.jetcd.options.GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getCount());
    }
    return out;
  }
}
