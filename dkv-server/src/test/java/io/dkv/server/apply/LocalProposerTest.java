package io.dkv.server.apply;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.dkv.server.mvcc.EtcdError;
import io.dkv.server.mvcc.EtcdException;
import io.dkv.server.mvcc.MvccStore;
import io.dkv.server.storage.Backend;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.PutResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit: commands waiting while a sync runs are made durable together by the next one; a failed sync
 * fails every caller of its group and every later one. The synced write is counted (and failed) through the
 * proposer's {@link LocalProposer.GroupCommit} seam, in front of the real {@link MvccStore#commit}.
 */
class LocalProposerTest {

  @TempDir
  Path dir;

  private Backend backend;
  private LocalProposer proposer;
  private final List<List<Event>> published = new CopyOnWriteArrayList<>();

  /** The seam: records each group's size, can hold a sync until released, can fail the n-th one. */
  private final class CountingCommit implements LocalProposer.GroupCommit {
    final MvccStore store;
    final List<Long> groups = new CopyOnWriteArrayList<>();
    final CountDownLatch firstSyncStarted = new CountDownLatch(1);
    final CountDownLatch releaseFirstSync = new CountDownLatch(1);
    final AtomicInteger calls = new AtomicInteger();
    volatile int failCall = -1;
    final RuntimeException failure = new IllegalStateException("injected: fsync failed");

    CountingCommit(MvccStore store) {
      this.store = store;
    }

    @Override
    public List<Event> commit(long commands) {
      int call = calls.getAndIncrement();
      if (call == 0) {
        firstSyncStarted.countDown();
        try {
          assertTrue(releaseFirstSync.await(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (call == failCall) {
        throw failure;
      }
      groups.add(commands);
      return store.commit(commands);
    }
  }

  @AfterEach
  void close() {
    if (proposer != null) {
      proposer.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  private CountingCommit start() throws IOException {
    backend = Backend.open(dir);
    MvccStore store = MvccStore.open(backend);
    CountingCommit seam = new CountingCommit(store);
    proposer = new LocalProposer(store, LeaseState.NONE, published::add, seam);
    return seam;
  }

  private static PutRequest put(String key) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v")).build();
  }

  private static long revision(CompletableFuture<Message> f) throws Exception {
    return ((PutResponse) f.get(30, TimeUnit.SECONDS)).getHeader().getRevision();
  }

  @Test
  void commandsWaitingDuringASyncAreMadeDurableByTheNextOneSync() throws Exception {
    CountingCommit seam = start();
    CompletableFuture<Message> first = proposer.propose(put("first"));
    assertTrue(seam.firstSyncStarted.await(30, TimeUnit.SECONDS));
    List<CompletableFuture<Message>> waiting = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      waiting.add(proposer.propose(put("k" + i)));
    }
    assertFalse(first.isDone(), "acknowledged before its sync returned");
    seam.releaseFirstSync.countDown();

    assertEquals(2, revision(first));
    List<Long> revs = new ArrayList<>();
    for (CompletableFuture<Message> f : waiting) {
      revs.add(revision(f));
    }
    assertEquals(List.of(3L, 4L, 5L, 6L, 7L), revs);
    assertEquals(List.of(1L, 5L), seam.groups, "commands per sync");
    assertEquals(2, published.size(), "one publication per group");
    assertEquals(5, published.get(1).size());

    proposer.close();
    proposer = null;
    backend.close();
    backend = Backend.open(dir);
    MvccStore reopened = MvccStore.open(backend);
    assertEquals(7, reopened.committedRevision(), "durable");
    assertEquals(6, reopened.appliedIndex());
  }

  @Test
  void aFailedSyncFailsEveryCallerOfItsGroupAndAcknowledgesNothingAfter() throws Exception {
    CountingCommit seam = start();
    seam.failCall = 1; // the second sync: the group that waited during the first
    CompletableFuture<Message> first = proposer.propose(put("first"));
    assertTrue(seam.firstSyncStarted.await(30, TimeUnit.SECONDS));
    List<CompletableFuture<Message>> group = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      group.add(proposer.propose(put("k" + i)));
    }
    seam.releaseFirstSync.countDown();
    assertEquals(2, revision(first));

    for (CompletableFuture<Message> f : group) {
      ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
      assertEquals(EtcdError.STOPPED, assertInstanceOf(EtcdException.class, e.getCause()).error());
    }
    await().until(() -> proposer.failure() != null);
    assertSame(seam.failure, proposer.failure());
    CompletableFuture<Message> after = proposer.propose(put("after"));
    ExecutionException e = assertThrows(ExecutionException.class, () -> after.get(30, TimeUnit.SECONDS));
    assertEquals(EtcdError.STOPPED, assertInstanceOf(EtcdException.class, e.getCause()).error());
    assertEquals(List.of(1L), seam.groups, "no sync after the failed one");
    assertEquals(1, published.size(), "the failed group was never published");

    proposer.close();
    proposer = null;
    backend.close();
    backend = Backend.open(dir);
    assertEquals(2, MvccStore.open(backend).committedRevision(), "only the first group is stored");
  }
}
