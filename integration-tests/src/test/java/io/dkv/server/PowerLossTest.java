package io.dkv.server;

import static io.dkv.server.CrashSafetyTest.SERVER_JVM;
import static io.dkv.server.CrashSafetyTest.client;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.server.AcknowledgedWrites.Finding;
import io.dkv.server.AcknowledgedWrites.Problem;
import io.dkv.testing.DkvProcess;
import io.dkv.testing.EtcdProcess;
import io.dkv.testing.LazyFs;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts the power under concurrent writers: the server's data directory is on a {@link LazyFs}, which at the cut
 * drops every write not yet fsynced (file data by file, directory entries by directory), as a machine that loses
 * power loses its page cache; the server is killed at the same moment, after the cut, so nothing more reaches the
 * disk. Then the filesystem is mounted again, the server restarted on the same directory, and {@link
 * AcknowledgedWrites} checks that every acknowledged write is there with its revision, that the revision did not
 * go back, and that a write in flight at the cut happened entirely or not at all. The control runs the same
 * scenario on a filesystem that ignores fsync, and must see acknowledged writes lost: the test can catch a
 * missing sync; and the same scenario on a real etcd passes, the control that a correct server does. It uses
 * only the server's data directory and its etcd API.
 */
class PowerLossTest {

  private static final Logger log = LoggerFactory.getLogger(PowerLossTest.class);
  private static final int ROUNDS = 3;

  @TempDir
  Path tmp;

  private final long seed = new Random().nextLong();
  private final AtomicInteger unsyncedAtCuts = new AtomicInteger();

  @Test
  void acknowledgedWritesSurvivePowerLoss() throws Exception {
    AcknowledgedWrites writes = new AcknowledgedWrites(" (seed " + seed + ")");
    // journaled names, as ext4 and XFS keep them: Apache Ratis does not fsync its log directory when it starts a
    // new segment file, so under POSIX's letter a power cut may take a segment whose data was synced
    assertEquals(List.of(), powerLosses(writes, ROUNDS, LazyFs::mountJournalingNames, PowerLossTest::dkv));
    assertTrue(writes.acknowledged() > ROUNDS * 80, writes.acknowledged() + " writes acknowledged");
    assertTrue(writes.inFlightAtCrashes() > 0, "writes were in flight at the cuts");
    assertTrue(unsyncedAtCuts.get() > 0, "the cuts dropped unsynced writes");
    log.info("{} power cuts: {} writes acknowledged and kept, {} in flight, {} files with unsynced writes at the cuts",
        ROUNDS, writes.acknowledged(), writes.inFlightAtCrashes(), unsyncedAtCuts.get());
  }

  @Test
  void aRealEtcdKeepsAcknowledgedWritesAcrossPowerLoss() throws Exception {
    EtcdProcess.assumeInstalled();
    AcknowledgedWrites writes = new AcknowledgedWrites(" (etcd, seed " + seed + ")");
    // etcd 3.4 never syncs its data directory after creating member/ in it, so on a filesystem that keeps
    // POSIX's letter it loses everything at the first cut; it holds where every sync commits the metadata journal
    assertEquals(List.of(), powerLosses(writes, 2, LazyFs::mountJournalingNames, PowerLossTest::etcd));
    assertTrue(writes.acknowledged() > 2 * 80, writes.acknowledged() + " writes acknowledged");
  }

  @Test
  void theControlIgnoringFsyncLosesAcknowledgedWrites() throws Exception {
    AcknowledgedWrites writes = new AcknowledgedWrites(" (seed " + seed + ")");
    List<Finding> found = powerLosses(writes, 1, LazyFs::mountIgnoringFsync, PowerLossTest::dkv);
    List<Finding> lost = found.stream().filter(f -> f.problem() == Problem.LOST).toList();
    assertTrue(!lost.isEmpty(), "without fsync the cut lost no acknowledged write of " + writes.acknowledged()
        + ": the filesystem no longer drops unsynced writes; found " + found);
    log.info("the control (fsync ignored): {} acknowledged writes, {} findings of lost ones, e.g. {}; and {}",
        writes.acknowledged(), lost.size(), lost.get(0).message(), found.get(0).message());
  }

  /** A server process on a data directory: its endpoint, SIGKILL, and close. */
  interface Server extends AutoCloseable {
    String endpoint();

    void kill();

    @Override
    void close();
  }

  interface Starter {
    Server start(Path data) throws IOException;
  }

  interface Mounter {
    LazyFs mount(Path backing, Path mountPoint) throws IOException;
  }

  static Server dkv(Path data) throws IOException {
    DkvProcess p = DkvProcess.start(data, 0, SERVER_JVM);
    return new Server() {
      public String endpoint() {
        return p.endpoint();
      }

      public void kill() {
        p.kill();
      }

      public void close() {
        p.close();
      }
    };
  }

  static Server etcd(Path data) throws IOException {
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------")); // etcd requires 0700
    EtcdProcess p = EtcdProcess.start(data);
    return new Server() {
      public String endpoint() {
        return p.endpoint();
      }

      public void kill() {
        p.kill();
      }

      public void close() {
        p.close();
      }
    };
  }

  /** Rounds of writes and power cuts; returns the first check's findings that are not empty, or the last one's. */
  private List<Finding> powerLosses(AcknowledgedWrites writes, int rounds, Mounter mounter, Starter starter)
      throws Exception {
    Random rnd = new Random(seed);
    Path disk = tmp.resolve("disk");
    Path data = tmp.resolve("data"); // the mount point; the server's log goes next to it, off the mount
    LazyFs fs = mounter.mount(disk, data);
    ExecutorService pool = Executors.newFixedThreadPool(AcknowledgedWrites.WRITERS);
    try {
      for (int round = 0; ; round++) {
        try (Server server = starter.start(data); Client c = client(server.endpoint())) {
          List<Finding> found = writes.check(c.getKVClient(), round);
          if (!found.isEmpty() || round == rounds) {
            return found;
          }
          LazyFs power = fs;
          writes.runUntilCrash(c.getKVClient(), round, 80 + rnd.nextInt(150), false, rnd, pool, () -> {
            try {
              unsyncedAtCuts.addAndGet(power.cut());
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            } finally {
              server.kill();
            }
          });
        }
        fs = fs.remount();
      }
    } finally {
      pool.shutdownNow();
      fs.close();
    }
  }
}
