package io.dkv.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * dkv-bom has no parent (so importing it brings no build or test versions), so its versions are written twice:
 * this test fails when they drift from the parent pom's, or when a published module is missing from the BOM.
 */
class BomTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void theBomAgreesWithTheParentAndListsEveryPublishedModule() throws Exception {
    Document parent = parse(ROOT.resolve("pom.xml"));
    Document bom = parse(ROOT.resolve("dkv-bom/pom.xml"));
    assertEquals(text(parent.getDocumentElement(), "version"), text(bom.getDocumentElement(), "version"),
        "dkv-bom's version");
    Map<String, String> parentProps = properties(parent);
    Map<String, String> bomProps = properties(bom);
    assertTrue(!bomProps.isEmpty(), "dkv-bom has version properties");
    for (Map.Entry<String, String> p : bomProps.entrySet()) {
      assertEquals(parentProps.get(p.getKey()), p.getValue(), "dkv-bom's " + p.getKey() + " vs the parent pom's");
    }
    List<String> managed = new ArrayList<>();
    NodeList deps = bom.getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      managed.add(text((Element) deps.item(i), "artifactId"));
    }
    for (String module : publishedModules(parent)) {
      assertTrue(managed.contains(module), "dkv-bom manages " + module + " (managed: " + managed + ")");
    }
  }

  /** The artifact ids of the parent's modules that users depend on (not tests, examples or benchmarks). */
  private static List<String> publishedModules(Document parent) throws Exception {
    List<String> out = new ArrayList<>();
    NodeList modules = parent.getElementsByTagName("module");
    for (int i = 0; i < modules.getLength(); i++) {
      Document pom = parse(ROOT.resolve(modules.item(i).getTextContent().trim()).resolve("pom.xml"));
      String id = text(pom.getDocumentElement(), "artifactId");
      if (!id.equals("dkv-bom") && !id.equals("dkv-integration-tests") && !id.equals("dkv-examples")
          && !id.equals("dkv-benchmarks") && !id.startsWith("dkv-example-")) {
        out.add(id);
      }
    }
    assertTrue(out.contains("dkv-client"), "modules read from the parent pom: " + out);
    return out;
  }

  private static Map<String, String> properties(Document pom) {
    Map<String, String> out = new TreeMap<>();
    NodeList props = pom.getElementsByTagName("properties");
    if (props.getLength() == 0) {
      return out;
    }
    for (Node n = props.item(0).getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e) {
        out.put(e.getTagName(), e.getTextContent().trim());
      }
    }
    return out;
  }

  /** The text of {@code parent}'s direct child element {@code name}. */
  private static String text(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        return e.getTextContent().trim();
      }
    }
    throw new AssertionError("no <" + name + "> in <" + parent.getTagName() + ">");
  }

  private static Document parse(Path pom) throws Exception {
    assertTrue(Files.exists(pom), pom + " exists");
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
  }
}
