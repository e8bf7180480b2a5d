package io.dkv.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What survives a {@link LazyFs#cut()}: exactly what was synced, file data by file and names by directory. */
class LazyFsTest {

  @TempDir
  Path tmp;

  private LazyFs fs;

  @AfterEach
  void unmount() {
    if (fs != null) {
      fs.close();
    }
  }

  private Path mount(boolean honourFsync) throws IOException {
    fs = honourFsync ? LazyFs.mount(tmp.resolve("disk"), tmp.resolve("mnt"))
        : LazyFs.mountIgnoringFsync(tmp.resolve("disk"), tmp.resolve("mnt"));
    return fs.mountPoint();
  }

  private static void append(Path f, String s, boolean sync) throws IOException {
    try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      c.write(ByteBuffer.wrap(s.getBytes()));
      if (sync) {
        c.force(false); // fdatasync
      }
    }
  }

  private static void syncDir(Path dir) throws IOException {
    try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
      c.force(true);
    }
  }

  private Path powerLoss() throws IOException {
    fs.cut();
    fs = fs.remount();
    return fs.mountPoint();
  }

  @Test
  void keepsWhatWasSyncedAndLosesTheRest() throws IOException {
    Path m = mount(true);
    Files.createDirectories(m.resolve("d"));
    append(m.resolve("d/log"), "synced;", true);
    append(m.resolve("d/log"), "not synced;", false);
    append(m.resolve("d/named-only"), "data never synced", false);
    append(m.resolve("d/tmp"), "renamed", true);
    Files.move(m.resolve("d/tmp"), m.resolve("d/current"), StandardCopyOption.ATOMIC_MOVE);
    syncDir(m.resolve("d"));
    syncDir(m);
    append(m.resolve("d/current"), "+synced after the dir sync", true);
    append(m.resolve("d/unnamed"), "data synced, name not", true);
    Files.delete(m.resolve("d/named-only")); // not synced: it comes back

    Path after = powerLoss();
    assertEquals("synced;", Files.readString(after.resolve("d/log")));
    assertEquals("", Files.readString(after.resolve("d/named-only")), "a name synced without its data");
    assertEquals("renamed+synced after the dir sync", Files.readString(after.resolve("d/current")));
    assertFalse(Files.exists(after.resolve("d/tmp")), "the rename was synced");
    assertFalse(Files.exists(after.resolve("d/unnamed")), "a file whose directory was never synced");
  }

  @Test
  void aCutFailsEveryLaterOperation() throws IOException {
    Path m = mount(true);
    append(m.resolve("f"), "x", true);
    fs.cut();
    assertThrows(IOException.class, () -> append(m.resolve("f"), "y", true));
    assertThrows(IOException.class, () -> Files.readString(m.resolve("f")));
  }

  @Test
  void theControlIgnoringFsyncKeepsNothing() throws IOException {
    Path m = mount(false);
    Files.createDirectories(m.resolve("d"));
    append(m.resolve("d/log"), "synced;", true);
    syncDir(m.resolve("d"));
    syncDir(m);
    assertEquals("synced;", Files.readString(m.resolve("d/log")), "the mount shows every write at once");

    Path after = powerLoss();
    assertFalse(Files.exists(after.resolve("d")), "nothing written after the mount survives");
    try (var s = Files.list(after)) {
      assertTrue(s.findAny().isEmpty());
    }
  }
}
