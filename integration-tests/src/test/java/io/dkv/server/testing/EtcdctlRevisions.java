package io.dkv.server.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link RevisionShift} for etcdctl commands: the revisions in their arguments ({@code --rev=N},
 * {@code compaction N}) and in a txn's compares on stdin ({@code mod("k") < "N"}) moved up by the offset of the
 * member they run against (0 for a fresh server: unchanged).
 */
public final class EtcdctlRevisions {

  private static final Pattern COMPARE = Pattern.compile("((?:mod|create)\\(\"[^\"]*\"\\) *[<>=!]+ *\")(\\d+)\"");

  private EtcdctlRevisions() {}

  public static List<String> shiftArgs(List<String> args, int port) {
    long offset = Channels.offset(port);
    List<String> out = new ArrayList<>(args);
    for (int i = 0; i < out.size(); i++) {
      String a = out.get(i);
      if (a.startsWith("--rev=")) {
        out.set(i, "--rev=" + shift(Long.parseLong(a.substring(6)), offset));
      } else if (i > 0 && out.get(i - 1).equals("compaction") && a.matches("\\d+")) {
        out.set(i, Long.toString(shift(Long.parseLong(a), offset)));
      }
    }
    return out;
  }

  public static String shiftStdin(String stdin, int port) {
    long offset = Channels.offset(port);
    Matcher m = COMPARE.matcher(stdin);
    return m.replaceAll(r -> Matcher.quoteReplacement(r.group(1) + shift(Long.parseLong(r.group(2)), offset) + "\""));
  }

  private static long shift(long rev, long offset) {
    return rev > 0 ? rev + offset : rev;
  }
}
