package io.dkv.server.raft;

import io.dkv.server.storage.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;

/**
 * The member's snapshots: RocksDB checkpoints in Ratis's state machine directory, one directory each,
 * {@code snapshot.<term>_<index>}, the newest two kept. Ratis sends the files of the latest to a member that
 * is behind the leader's log, into the same layout on that member.
 */
final class Snapshots {

  private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");
  private static final int KEEP = 2;

  private final Path dir;
  /**
   * The newest snapshot as last listed. Ratis asks for it on every pass of each log appender and every append
   * a follower receives; the directory changes only by {@link #take} and by Ratis installing the leader's
   * snapshot (after which {@link #refresh} runs), so it is listed then, not on each call.
   */
  private volatile SnapshotInfo latest;

  Snapshots(Path dir) {
    this.dir = dir;
    refresh();
  }

  Path dir() {
    return dir;
  }

  /** Checkpoints the store as of log entry ({@code term}, {@code index}); nothing if that one exists. */
  void take(Backend backend, long term, long index) throws IOException {
    Path target = dir.resolve("snapshot." + term + "_" + index);
    if (Files.exists(target)) {
      return;
    }
    Files.createDirectories(dir);
    Path tmp = dir.resolve("tmp.snapshot." + term + "_" + index);
    deleteTree(tmp);
    backend.checkpoint(tmp);
    Files.move(tmp, target);
    List<Path> all = list();
    for (int i = KEEP; i < all.size(); i++) {
      deleteTree(all.get(i));
    }
    refresh();
  }

  /** The newest snapshot, or null if there is none. */
  SnapshotInfo latest() {
    return latest;
  }

  /** Lists the directory again (Ratis has put a snapshot from the leader there), and returns the newest. */
  SnapshotInfo refresh() {
    try {
      List<Path> all = list();
      latest = all.isEmpty() ? null : info(all.get(0));
      return latest;
    } catch (IOException e) {
      throw new IllegalStateException("cannot list the snapshots in " + dir, e);
    }
  }

  Path pathOf(SnapshotInfo s) {
    return dir.resolve("snapshot." + s.getTerm() + "_" + s.getIndex());
  }

  private static SnapshotInfo info(Path p) throws IOException {
    Matcher m = NAME.matcher(p.getFileName().toString());
    if (!m.matches()) {
      throw new IllegalStateException("not a snapshot: " + p);
    }
    List<FileInfo> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(p)) {
      for (Path f : s.sorted().toList()) {
        files.add(new FileInfo(f, null)); // Ratis digests each file as it sends it
      }
    }
    return new FileListSnapshotInfo(files, TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
  }

  /** Snapshot directories (whole checkpoints: with RocksDB's CURRENT file), newest (highest index) first. */
  private List<Path> list() throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.exists(p.resolve("CURRENT")))
          .sorted(Comparator.comparingLong(Snapshots::indexOf).reversed()).toList();
    }
  }

  private static long indexOf(Path p) {
    Matcher m = NAME.matcher(p.getFileName().toString());
    m.matches();
    return Long.parseLong(m.group(2));
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
