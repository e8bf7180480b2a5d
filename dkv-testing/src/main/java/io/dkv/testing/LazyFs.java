package io.dkv.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A filesystem that loses, at a power cut, everything not yet synced, for durability tests (in the spirit of
 * etcd's LazyFS). It is a FUSE mount over a backing directory that holds only what a disk would hold: a file's
 * data and size reach it when the file is fsynced (or fdatasynced), and a directory's entries (creates,
 * renames, links, unlinks, mkdir, rmdir) when the directory is fsynced. Until then they live in a cache that
 * the mount shows, as the page cache would. {@link #cut()} throws the cache away at once: from then on every
 * operation on the mount fails with EIO and nothing more reaches the backing directory. A new mount over the
 * same backing directory ({@link #remount()}) then shows what survived the power loss.
 *
 * <p>{@link #mountIgnoringFsync} mounts the same filesystem with every sync a no-op, so nothing written after the
 * mount survives a cut: the control that shows a durability test can see a missing fsync.
 *
 * <p>It needs Linux, {@code /dev/fuse}, root (or {@code fusermount}) and Debian's {@code python3-fusepy}. Without
 * them {@link #mount} skips the calling test with a visible reason, or fails it when the system property
 * {@code etcd.required} is true (as in DKV's CI), as {@link EtcdProcess} does.
 */
public final class LazyFs implements AutoCloseable {

  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final long TIMEOUT_SECONDS = 30;

  private final Path backing;
  private final Path mountPoint;
  private final Mode mode;
  private final Path cache;
  private final Process process;
  private final Writer control;
  private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
  private boolean mounted;

  private enum Mode { POSIX, JOURNALED_NAMES, NO_FSYNC }

  private LazyFs(Path backing, Path mountPoint, Mode mode, Path cache, Process process) {
    this.backing = backing;
    this.mountPoint = mountPoint;
    this.mode = mode;
    this.cache = cache;
    this.process = process;
    this.control = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(() -> readLines(process.getInputStream()), "lazyfs-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /** Mounts the filesystem on {@code mountPoint} over {@code backing} (both created if missing). */
  public static LazyFs mount(Path backing, Path mountPoint) throws IOException {
    return start(backing, mountPoint, Mode.POSIX);
  }

  /**
   * As {@link #mount}, but any sync (of a file or a directory) first makes every earlier directory change durable,
   * as the metadata journals of ext4 and XFS do in practice, though POSIX does not promise it. etcd 3.4 relies on
   * it: it never syncs its data directory after creating {@code member/} in it.
   */
  public static LazyFs mountJournalingNames(Path backing, Path mountPoint) throws IOException {
    return start(backing, mountPoint, Mode.JOURNALED_NAMES);
  }

  /** The control: as {@link #mount}, but fsync and fdatasync do nothing, so no write ever becomes durable. */
  public static LazyFs mountIgnoringFsync(Path backing, Path mountPoint) throws IOException {
    return start(backing, mountPoint, Mode.NO_FSYNC);
  }

  /** Skips the calling test (or fails it under {@code -Detcd.required=true}) when the filesystem cannot run here. */
  public static void assumeAvailable() {
    String missing = missing();
    if (missing != null) {
      unavailable(missing);
    }
  }

  public Path mountPoint() {
    return mountPoint;
  }

  public Path backing() {
    return backing;
  }

  /**
   * The power cut: drops every write not yet synced, and from now on fails every operation on the mount with EIO,
   * so nothing more reaches the backing directory. Returns once the cut is done. Unmount (or {@link #remount()})
   * to see what survived.
   *
   * @return how many files had writes not yet synced (their unsynced part is lost)
   */
  public int cut() throws IOException {
    control.write("cut\n");
    control.flush();
    String reply = reply();
    if (!reply.startsWith("cut ")) {
      throw new IOException("lazyfs did not confirm the cut: " + reply + log());
    }
    return Integer.parseInt(reply.substring("cut ".length()));
  }

  /** Unmounts this filesystem (if it still is mounted) and mounts a new one over the same directories and mode. */
  public LazyFs remount() throws IOException {
    close();
    return start(backing, mountPoint, mode);
  }

  /** Unmounts and ends the filesystem's process. The backing directory stays. */
  @Override
  public void close() {
    if (!mounted) {
      return;
    }
    mounted = false;
    String mp = mountPoint.toString();
    boolean unmounted = run("umount", mp) || run("fusermount", "-u", mp) || run("fusermount3", "-u", mp);
    try {
      control.close();
    } catch (IOException ignored) {
      // the process may be gone
    }
    try {
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    if (!unmounted && !run("umount", "-l", mp) && !run("fusermount", "-u", "-z", mp)) {
      run("fusermount3", "-u", "-z", mp);
    }
    EtcdProcess.deleteTree(cache);
  }

  private static LazyFs start(Path backing, Path mountPoint, Mode mode) throws IOException {
    assumeAvailable();
    Files.createDirectories(backing);
    Files.createDirectories(mountPoint);
    Path cache = Files.createTempDirectory("lazyfs-cache");
    List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), script().toString(),
        backing.toString(), cache.resolve("live").toString(), mountPoint.toString()));
    if (mode == Mode.NO_FSYNC) {
      cmd.add("--no-fsync");
    } else if (mode == Mode.JOURNALED_NAMES) {
      cmd.add("--journaled-names");
    }
    Path log = backing.resolveSibling(backing.getFileName() + ".lazyfs.log");
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    LazyFs fs = new LazyFs(backing, mountPoint, mode, cache, p);
    fs.mounted = true;
    String reply = fs.reply();
    if (!"mounted".equals(reply)) {
      String why = fs.log();
      fs.close();
      unavailable("lazyfs could not mount " + mountPoint + " (" + reply + ")" + why);
    }
    return fs;
  }

  private String reply() throws IOException {
    try {
      String line = replies.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return line == null ? (process.isAlive() ? "no answer" : "exited with " + process.exitValue()) : line;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private void readLines(InputStream in) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        replies.add(line);
      }
    } catch (IOException ignored) {
      // the process ended
    }
    replies.add("exited");
  }

  private String log() {
    try {
      return ":\n" + Files.readString(backing.resolveSibling(backing.getFileName() + ".lazyfs.log"));
    } catch (IOException e) {
      return "";
    }
  }

  /** Null if the filesystem can run here, else what is missing. */
  private static String missing() {
    if (!Files.exists(Path.of("/dev/fuse"))) {
      return "no /dev/fuse (FUSE is not available here)";
    }
    if (!Files.isReadable(Path.of("/dev/fuse")) || !Files.isWritable(Path.of("/dev/fuse"))) {
      return "/dev/fuse is not readable and writable by this user";
    }
    if (!Files.isExecutable(PYTHON) || !run(PYTHON.toString(), "-c", "import fusepy")) {
      return "no " + PYTHON + " with the fusepy module (install Debian's python3-fusepy)";
    }
    return null;
  }

  private static void unavailable(String reason) {
    if (Boolean.getBoolean("etcd.required")) {
      throw new AssertionError(reason + ", and -Detcd.required=true");
    }
    Assumptions.abort(reason + "; skipping the power-loss test");
  }

  private static Path script() throws IOException {
    Path f = Files.createTempFile("lazyfs", ".py");
    f.toFile().deleteOnExit();
    try (InputStream in = LazyFs.class.getResourceAsStream("lazyfs.py")) {
      if (in == null) {
        throw new IOException("lazyfs.py missing from dkv-testing's resources");
      }
      Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
    }
    return f;
  }

  private static boolean run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new IOException("interrupted", e));
    }
  }
}
