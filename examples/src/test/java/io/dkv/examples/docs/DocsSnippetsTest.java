package io.dkv.examples.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every {@code ```java} block in README.md and docs/*.md is a copy of a region of compiled source: the line
 * above the block names it, {@code <!-- include: path/from/repo/root/Foo.java#region-name -->}, and the source
 * marks it with {@code // region region-name} ... {@code // endregion}. The block must equal the region (with
 * the region's common indentation removed). An untagged java block, a missing file or region, or any difference
 * fails this test. Regions may also be marked {@code // [guide:name]} ... {@code // [/guide:name]}. It also checks
 * that every relative link in those files points at an existing file and, with {@code #anchor}, heading.
 *
 * <p>To refresh the docs after changing a region: {@code ./mvnw -B -o -q -pl examples -am test
 * -Dtest=DocsSnippetsTest -Ddocs.update=true} rewrites every tagged block from its region (then the test
 * passes; review the diff).
 */
class DocsSnippetsTest {

  static final Pattern INCLUDE = Pattern.compile("^<!-- include: (\\S+)#(\\S+) -->$");

  static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("README.md"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no README.md above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  static List<Path> docs(Path root) throws IOException {
    List<Path> out = new ArrayList<>();
    out.add(root.resolve("README.md"));
    try (Stream<Path> s = Files.list(root.resolve("docs"))) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(out::add);
    }
    return out;
  }

  @Test
  void everyJavaSnippetInTheDocsIsARegionOfCompiledSource() throws IOException {
    Path root = root();
    boolean update = Boolean.getBoolean("docs.update");
    List<String> problems = new ArrayList<>();
    int checked = 0;
    for (Path doc : docs(root)) {
      List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
      List<String> rewritten = new ArrayList<>();
      String name = root.relativize(doc).toString();
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        rewritten.add(line);
        if (!line.startsWith("```")) {
          continue;
        }
        String lang = line.substring(3).trim();
        int close = i + 1;
        while (close < lines.size() && !lines.get(close).startsWith("```")) {
          close++;
        }
        if (close == lines.size()) {
          problems.add(name + ":" + (i + 1) + ": a code block that is never closed");
          break;
        }
        List<String> block = lines.subList(i + 1, close);
        List<String> replacement = block;
        if (lang.equals("java")) {
          checked++;
          String tag = previousNonBlank(lines, i);
          Matcher m = INCLUDE.matcher(tag == null ? "" : tag.trim());
          if (!m.matches()) {
            problems.add(name + ":" + (i + 1) + ": a java block without <!-- include: path#region --> above it");
          } else {
            try {
              List<String> region = region(root.resolve(m.group(1)), m.group(2));
              if (!region.equals(block)) {
                problems.add(name + ":" + (i + 1) + ": differs from " + m.group(1) + "#" + m.group(2)
                    + firstDifference(block, region));
                replacement = region;
              }
            } catch (IllegalArgumentException | IOException e) {
              problems.add(name + ":" + (i + 1) + ": " + e.getMessage());
            }
          }
        }
        rewritten.addAll(replacement);
        rewritten.add(lines.get(close));
        i = close;
      }
      if (update && !rewritten.equals(lines)) {
        Files.writeString(doc, String.join("\n", rewritten) + "\n", StandardCharsets.UTF_8);
      }
    }
    assertTrue(checked > 0, "no java blocks found under " + root);
    if (!problems.isEmpty() && !update) {
      fail(problems.size() + " doc snippet problem(s):\n" + String.join("\n", problems)
          + "\n(-Ddocs.update=true rewrites tagged blocks from their regions)");
    }
  }

  static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

  @Test
  void everyRelativeLinkInTheDocsPointsAtAnExistingFileAndHeading() throws IOException {
    Path root = root();
    List<String> problems = new ArrayList<>();
    int checked = 0;
    for (Path doc : docs(root)) {
      String name = root.relativize(doc).toString();
      boolean inCode = false;
      List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).startsWith("```")) {
          inCode = !inCode;
        }
        if (inCode) {
          continue;
        }
        Matcher m = LINK.matcher(lines.get(i));
        while (m.find()) {
          String target = m.group(1);
          if (target.startsWith("http://") || target.startsWith("https://") || target.startsWith("mailto:")) {
            continue;
          }
          checked++;
          String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
          String anchor = target.contains("#") ? target.substring(target.indexOf('#') + 1) : null;
          Path linked = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
          if (!Files.exists(linked)) {
            problems.add(name + ":" + (i + 1) + ": no such file " + target);
          } else if (anchor != null && !anchors(linked).contains(anchor)) {
            problems.add(name + ":" + (i + 1) + ": no heading #" + anchor + " in " + root.relativize(linked));
          }
        }
      }
    }
    assertTrue(checked > 0, "no relative links found");
    if (!problems.isEmpty()) {
      fail(problems.size() + " broken link(s):\n" + String.join("\n", problems));
    }
  }

  /** GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens. */
  static List<String> anchors(Path markdown) throws IOException {
    List<String> out = new ArrayList<>();
    boolean inCode = false;
    for (String line : Files.readAllLines(markdown, StandardCharsets.UTF_8)) {
      if (line.startsWith("```")) {
        inCode = !inCode;
      }
      if (!inCode && line.startsWith("#")) {
        String text = line.replaceFirst("^#+\\s*", "").trim().toLowerCase(java.util.Locale.ROOT);
        out.add(text.replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
      }
    }
    return out;
  }

  @Test
  void anchorsAreGitHubs() throws IOException {
    Path f = Files.createTempFile("doc", ".md");
    try {
      Files.writeString(f, String.join("\n", "# Title", "## The watch path", "```", "# not a heading", "```",
          "## `ListerWatchers.kubernetes` \u2014 informers over the Kubernetes API"));
      assertEquals(List.of("title", "the-watch-path", "listerwatcherskubernetes--informers-over-the-kubernetes-api"),
          anchors(f));
    } finally {
      Files.delete(f);
    }
  }

  @Test
  void regionsAreCutAndDedentedAsDocumented() throws IOException {
    Path f = Files.createTempFile("region", ".java");
    try {
      Files.writeString(f, String.join("\n", "class A {", "  void m() {", "    // region r", "    int x = 1;", "",
          "      x++;", "    // endregion", "  }", "}"));
      assertEquals(List.of("int x = 1;", "", "  x++;"), region(f, "r"));
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> region(f, "missing"));
      assertTrue(e.getMessage().contains("no region 'missing'"), e.getMessage());
      Files.writeString(f, String.join("\n", "class B {", "  // [guide:g]", "  int y;", "  // [/guide:g]", "}"));
      assertEquals(List.of("int y;"), region(f, "g"));
    } finally {
      Files.delete(f);
    }
  }

  private static String previousNonBlank(List<String> lines, int before) {
    for (int j = before - 1; j >= 0; j--) {
      if (!lines.get(j).isBlank()) {
        return lines.get(j);
      }
    }
    return null;
  }

  /** The lines between {@code // region name} and the next {@code // endregion}, without common indentation. */
  static List<String> region(Path source, String name) throws IOException {
    if (!Files.exists(source)) {
      throw new IllegalArgumentException("no such file " + source);
    }
    List<String> lines = Files.readAllLines(source, StandardCharsets.UTF_8);
    // two marker styles: "// region name" ... "// endregion", or "// [guide:name]" ... "// [/guide:name]"
    String guideStart = "// [guide:" + name + "]";
    String guideEnd = "// [/guide:" + name + "]";
    int start = -1;
    boolean guide = false;
    for (int i = 0; i < lines.size(); i++) {
      String t = lines.get(i).trim();
      if (t.equals("// region " + name) || t.startsWith("// region " + name + " (") || t.equals(guideStart)) {
        guide = t.equals(guideStart);
        if (start >= 0) {
          throw new IllegalArgumentException("region '" + name + "' twice in " + source);
        }
        start = i;
      }
    }
    if (start < 0) {
      throw new IllegalArgumentException("no region '" + name + "' in " + source);
    }
    List<String> body = new ArrayList<>();
    for (int i = start + 1; ; i++) {
      if (i == lines.size()) {
        throw new IllegalArgumentException("region '" + name + "' is not closed in " + source);
      }
      String t = lines.get(i).trim();
      if (guide ? t.equals(guideEnd) : t.equals("// endregion")) {
        break;
      }
      boolean marker = t.startsWith("// region ") || t.equals("// endregion") || t.startsWith("// [guide:")
          || t.startsWith("// [/guide:");
      if (!marker) {
        body.add(lines.get(i));
      }
    }
    int indent = body.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
        .min().orElse(0);
    List<String> out = new ArrayList<>();
    for (String l : body) {
      out.add(l.isBlank() ? "" : l.substring(indent).stripTrailing());
    }
    return out;
  }

  private static String firstDifference(List<String> doc, List<String> region) {
    for (int i = 0; i < Math.max(doc.size(), region.size()); i++) {
      String d = i < doc.size() ? doc.get(i) : "(end of block)";
      String r = i < region.size() ? region.get(i) : "(end of region)";
      if (!d.equals(r)) {
        return ", line " + (i + 1) + " of the block:\n    doc:    " + d + "\n    source: " + r;
      }
    }
    return "";
  }
}
