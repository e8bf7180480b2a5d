package io.dkv.server.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import java.lang.reflect.Proxy;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcReplyProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.LogAppender;
import org.junit.jupiter.api.Test;

class LeaderCheckTest {

  private static final RaftPeer SELF = peer("a");
  private static final RaftPeer B = peer("b");
  private static final RaftPeer C = peer("c");

  private final LeaderCheck check = new LeaderCheck(Runnable::run);
  private final AtomicLong term = new AtomicLong(3);
  private volatile boolean leading = true;
  private volatile List<RaftPeer> current = List.of(SELF, B, C);
  private volatile List<RaftPeer> previous = List.of();

  @Test
  void confirmedOnlyByAMajorityAcknowledgingAppendsSentAfterItWasAskedFor() throws Exception {
    FakeAppender b = appender(B, 10);
    FakeAppender c = appender(C, 20);
    CompletableFuture<Void> done = check.confirm(division(), 5_000);
    assertEquals(1, b.heartbeats.get(), "each follower is sent a heartbeat");
    assertEquals(1, c.heartbeats.get());

    check.replied(b.proxy, reply(9, true)); // sent before: the reply a resumed, deposed leader finds in its socket
    check.replied(c.proxy, reply(19, true));
    check.replied(b.proxy, reply(10, false)); // refused
    assertFalse(done.isDone(), "nothing sent after the check began was acknowledged");

    check.replied(c.proxy, reply(20, true));
    assertTrue(done.isDone() && !done.isCompletedExceptionally(), "itself and c: two of three");
  }

  @Test
  void theRepliesOfAReplacedAppenderCountForNothingAndARestartedOneCountsFromItsFirst() throws Exception {
    FakeAppender old = appender(B, 50);
    CompletableFuture<Void> first = check.confirm(division(), 5_000);
    FakeAppender replaced = appender(B, 0); // Ratis restarted b's appender: its call ids start again
    check.replied(old.proxy, reply(60, true));
    assertFalse(first.isDone(), "the replaced appender's reply");
    check.replied(replaced.proxy, reply(0, true));
    assertTrue(first.isDone() && !first.isCompletedExceptionally());
  }

  @Test
  void aTermThatMovedBeforeTheMajorityFails() {
    FakeAppender b = appender(B, 0);
    CompletableFuture<Void> done = check.confirm(division(), 5_000);
    term.incrementAndGet();
    check.replied(b.proxy, reply(0, true));
    assertEquals(EtcdError.NOT_LEADER, error(done));
  }

  @Test
  void notLeadingOrSteppingDownFails() {
    appender(B, 0);
    CompletableFuture<Void> open = check.confirm(division(), 5_000);
    check.stepDown();
    assertEquals(EtcdError.NOT_LEADER, error(open));
    leading = false;
    assertEquals(EtcdError.NOT_LEADER, error(check.confirm(division(), 5_000)));
  }

  @Test
  void whileTheConfigurationChangesBothMajoritiesAreNeeded() throws Exception {
    RaftPeer d = peer("d");
    previous = List.of(SELF, B, C);
    current = List.of(SELF, d, C); // b replaced by d
    FakeAppender b = appender(B, 0);
    appender(C, 0);
    FakeAppender dd = appender(d, 0);
    CompletableFuture<Void> done = check.confirm(division(), 5_000);
    check.replied(b.proxy, reply(0, true));
    assertFalse(done.isDone(), "a majority of the old configuration only");
    check.replied(dd.proxy, reply(0, true));
    assertTrue(done.isDone() && !done.isCompletedExceptionally());
  }

  @Test
  void aConfirmationNobodyAnswersTimesOut() {
    appender(B, 0);
    CompletableFuture<Void> done = check.confirm(division(), 50);
    ExecutionException e = assertThrows(ExecutionException.class, () -> done.get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof java.util.concurrent.TimeoutException, e.toString());
  }

  private static EtcdError error(CompletableFuture<Void> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
    return ((EtcdException) e.getCause()).error();
  }

  private static AppendEntriesReplyProto reply(long callId, boolean success) {
    return AppendEntriesReplyProto.newBuilder()
        .setServerReply(RaftRpcReplyProto.newBuilder().setCallId(callId).setSuccess(success)).build();
  }

  private static RaftPeer peer(String id) {
    return RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:1").build();
  }

  /** A leader's appender for {@code follower}, its next call id {@code next}, reported to the check. */
  private FakeAppender appender(RaftPeer follower, long next) {
    FakeAppender a = new FakeAppender(follower.getId(), next);
    check.appender(a.proxy);
    return a;
  }

  private final class FakeAppender {
    final AtomicInteger heartbeats = new AtomicInteger();
    final LogAppender proxy;

    FakeAppender(RaftPeerId follower, long next) {
      proxy = (LogAppender) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {LogAppender.class},
          (p, m, args) -> switch (m.getName()) {
            case "getFollowerId" -> follower;
            case "getCallId" -> next;
            case "getCallIdComparator" -> Comparator.<Long>naturalOrder();
            case "triggerHeartbeat" -> {
              heartbeats.incrementAndGet();
              yield null;
            }
            case "hashCode" -> System.identityHashCode(p);
            case "equals" -> p == args[0];
            default -> throw new UnsupportedOperationException(m.getName());
          });
    }
  }

  private RaftServer.Division division() {
    DivisionInfo info = (DivisionInfo) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {DivisionInfo.class}, (p, m, args) -> switch (m.getName()) {
          case "isLeader" -> leading;
          case "getCurrentTerm" -> term.get();
          default -> throw new UnsupportedOperationException(m.getName());
        });
    RaftConfiguration conf = (RaftConfiguration) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {RaftConfiguration.class}, (p, m, args) -> switch (m.getName()) {
          case "getCurrentPeers" -> current;
          case "getPreviousPeers" -> previous;
          default -> throw new UnsupportedOperationException(m.getName());
        });
    return (RaftServer.Division) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {RaftServer.Division.class}, (p, m, args) -> switch (m.getName()) {
          case "getInfo" -> info;
          case "getRaftConf" -> conf;
          case "getId" -> SELF.getId();
          default -> throw new UnsupportedOperationException(m.getName());
        });
  }
}
