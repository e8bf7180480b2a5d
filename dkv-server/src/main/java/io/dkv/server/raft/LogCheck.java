package io.dkv.server.raft;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.ratis.server.raftlog.segmented.SegmentedRaftLogFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the Raft log's segment files before Ratis reads them, as etcd checks its WAL: a torn tail (the last
 * segment ends in a partial or damaged entry with no valid entry after it, which is what a crash in mid-append
 * leaves, and was never acknowledged) is cut off with a warning; damage anywhere else (a bad entry followed by
 * valid ones, or in a closed segment) makes the member refuse to start, naming the file and the offset.
 *
 * <p>It reads Ratis 3.3's segment format (a header, then per entry a varint length, the entry, and a CRC32C of
 * both; zeros after the last entry); {@code CorruptionTest} fails if a Ratis upgrade changes it.
 */
final class LogCheck {

  private static final Logger log = LoggerFactory.getLogger(LogCheck.class);
  private static final Pattern SEGMENT = Pattern.compile("log_(inprogress_)?(\\d+)(-\\d+)?");

  private LogCheck() {}

  /** Checks every segment under {@code raftDir}; cuts a torn tail off the last one. */
  static void check(Path raftDir) throws IOException {
    List<Path> segments;
    try (Stream<Path> s = Files.walk(raftDir)) {
      segments = s.filter(p -> SEGMENT.matcher(p.getFileName().toString()).matches())
          .sorted(Comparator.comparingLong(LogCheck::startIndex)).toList();
    }
    for (int i = 0; i < segments.size(); i++) {
      boolean last = i == segments.size() - 1;
      checkSegment(segments.get(i), last && segments.get(i).getFileName().toString().contains("inprogress"));
    }
  }

  private static long startIndex(Path p) {
    Matcher m = SEGMENT.matcher(p.getFileName().toString());
    m.matches();
    return Long.parseLong(m.group(2));
  }

  private static void checkSegment(Path file, boolean open) throws IOException {
    byte[] data = Files.readAllBytes(file);
    int header = SegmentedRaftLogFormat.getHeaderLength();
    if (data.length < header) {
      return; // a segment whose header was not written yet: Ratis deletes it
    }
    int pos = header;
    int entries = 0;
    while (pos < data.length && data[pos] != 0) {
      int end = validEntryEnd(data, pos);
      if (end < 0) {
        break;
      }
      pos = end;
      entries++;
    }
    if (pos >= data.length || allZero(data, pos)) {
      return; // intact: entries, then (preallocated) zeros
    }
    boolean tornTail = open && !anyValidEntryFrom(data, pos + 1);
    if (!tornTail) {
      throw new IOException("the Raft log file " + file + " is damaged at offset " + pos + " (after " + entries
          + " valid entries, with entries after the damage)");
    }
    log.warn("cutting a torn tail off the Raft log file {}: {} bytes from offset {}, after {} valid entries "
        + "(a write in progress at a crash, never acknowledged)", file, data.length - pos, pos, entries);
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
      c.truncate(pos);
      c.force(true);
    }
  }

  /** The offset after the entry at {@code pos} if it is whole and its checksum matches, else -1. */
  private static int validEntryEnd(byte[] data, int pos) {
    long length = 0;
    int shift = 0;
    int p = pos;
    while (true) {
      if (p >= data.length || shift > 28) {
        return -1;
      }
      byte b = data[p++];
      length |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        break;
      }
      shift += 7;
    }
    if (length <= 0 || p + length + 4 > data.length) {
      return -1;
    }
    CRC32C crc = new CRC32C();
    crc.update(data, pos, (int) (p - pos + length));
    int stored = ByteBuffer.wrap(data, (int) (p + length), 4).getInt();
    return stored == (int) crc.getValue() ? (int) (p + length + 4) : -1;
  }

  private static boolean anyValidEntryFrom(byte[] data, int from) {
    for (int i = from; i < data.length; i++) {
      if (data[i] != 0 && validEntryEnd(data, i) > 0) {
        return true;
      }
    }
    return false;
  }

  private static boolean allZero(byte[] data, int from) {
    for (int i = from; i < data.length; i++) {
      if (data[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
