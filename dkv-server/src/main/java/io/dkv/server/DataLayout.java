package io.dkv.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data directory, as etcd's: everything under {@code member/}, the state (RocksDB) in {@code member/state}
 * and the Raft log in {@code member/raft}. A directory written by the single-node dkv-server before
 * replication (RocksDB at its top) is moved into {@code member/state} once; its history then carries on.
 */
final class DataLayout {

  private static final Logger log = LoggerFactory.getLogger(DataLayout.class);

  private DataLayout() {}

  /** The member directory of {@code dataDir}, after moving an older layout into it. */
  static Path memberDir(Path dataDir) throws IOException {
    io.dkv.server.storage.Backend.createDirectories(dataDir);
    Path member = dataDir.resolve("member");
    if (Files.exists(dataDir.resolve("CURRENT")) && !Files.exists(member)) {
      // into member.moving/state first, then one rename: a crash in between leaves a layout this can redo
      Path moving = dataDir.resolve("member.moving");
      Path state = moving.resolve("state");
      Files.createDirectories(state);
      List<Path> old;
      try (Stream<Path> s = Files.list(dataDir)) {
        old = s.filter(p -> !p.equals(moving)).toList();
      }
      for (Path p : old) {
        Files.move(p, state.resolve(p.getFileName()));
      }
      Files.move(moving, member, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      log.info("moved the single-node store in {} to {}", dataDir, member.resolve("state"));
    } else if (Files.exists(dataDir.resolve("member.moving")) && !Files.exists(member)) {
      Files.move(dataDir.resolve("member.moving"), member, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    return member;
  }
}
