package io.dkv.resources;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Kubernetes label selector semantics (matchLabels and matchExpressions, ANDed). */
final class LabelSelectors {
  private LabelSelectors() {
  }

  /** A test of label maps; a null or empty selector matches everything. Invalid selectors fail here. */
  static Predicate<Map<String, String>> matcher(LabelSelector selector) {
    if (selector == null) {
      return labels -> true;
    }
    List<Predicate<Map<String, String>>> all = new ArrayList<>();
    if (selector.getMatchLabels() != null) {
      selector.getMatchLabels().forEach((k, v) -> all.add(labels -> v.equals(labels.get(k))));
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        all.add(requirement(r));
      }
    }
    return labels -> all.stream().allMatch(p -> p.test(labels));
  }

  private static Predicate<Map<String, String>> requirement(LabelSelectorRequirement r) {
    String key = r.getKey();
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("a label selector requirement has no key: " + r);
    }
    List<String> values = r.getValues() == null ? List.of() : List.copyOf(r.getValues());
    String op = String.valueOf(r.getOperator());
    switch (op) {
      case "In", "NotIn" -> {
        if (values.isEmpty()) {
          throw new IllegalArgumentException("label selector operator " + op + " on \"" + key + "\" needs values");
        }
        boolean in = op.equals("In");
        return labels -> labels.containsKey(key) ? values.contains(labels.get(key)) == in : !in;
      }
      case "Exists", "DoesNotExist" -> {
        if (!values.isEmpty()) {
          throw new IllegalArgumentException("label selector operator " + op + " on \"" + key
              + "\" takes no values, got " + values);
        }
        boolean exists = op.equals("Exists");
        return labels -> labels.containsKey(key) == exists;
      }
      default -> throw new IllegalArgumentException("unknown label selector operator \"" + op + "\" on \"" + key
          + "\" (expected In, NotIn, Exists or DoesNotExist)");
    }
  }

  /** A selector in Kubernetes' string syntax, like {@code app=shop,tier in (db,web),!legacy}. */
  static String describe(LabelSelector selector) {
    List<String> parts = new ArrayList<>();
    if (selector.getMatchLabels() != null) {
      selector.getMatchLabels().forEach((k, v) -> parts.add(k + "=" + v));
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        switch (String.valueOf(r.getOperator())) {
          case "Exists" -> parts.add(r.getKey());
          case "DoesNotExist" -> parts.add("!" + r.getKey());
          default -> parts.add(r.getKey() + " " + r.getOperator().toLowerCase(java.util.Locale.ROOT) + " ("
              + String.join(",", r.getValues()) + ")");
        }
      }
    }
    return String.join(",", parts);
  }

  /** The labels of an object tree. */
  static Map<String, String> labels(ObjectNode object) {
    JsonNode labels = Json.metadata(object).get("labels");
    if (labels == null || !labels.isObject()) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>();
    labels.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }
}
