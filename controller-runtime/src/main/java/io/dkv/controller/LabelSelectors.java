package io.dkv.controller;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/** Kubernetes label selector semantics. */
final class LabelSelectors {
  private LabelSelectors() {}

  static Predicate<Map<String, String>> matcher(LabelSelector selector) {
    Objects.requireNonNull(selector, "selector");
    List<Predicate<Map<String, String>>> parts = new ArrayList<>();
    if (selector.getMatchLabels() != null) {
      Map<String, String> wanted = Map.copyOf(selector.getMatchLabels());
      parts.add(labels -> wanted.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey()))));
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        parts.add(requirement(r));
      }
    }
    return labels -> parts.stream().allMatch(p -> p.test(labels));
  }

  private static Predicate<Map<String, String>> requirement(LabelSelectorRequirement r) {
    String key = r.getKey();
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("a label selector requirement needs a key: " + r);
    }
    Set<String> values = r.getValues() == null ? Set.of() : new HashSet<>(r.getValues());
    String op = r.getOperator();
    switch (op == null ? "" : op) {
      case "In":
        requireValues(r, values, true);
        return labels -> labels.containsKey(key) && values.contains(labels.get(key));
      case "NotIn":
        requireValues(r, values, true);
        return labels -> !labels.containsKey(key) || !values.contains(labels.get(key));
      case "Exists":
        requireValues(r, values, false);
        return labels -> labels.containsKey(key);
      case "DoesNotExist":
        requireValues(r, values, false);
        return labels -> !labels.containsKey(key);
      default:
        throw new IllegalArgumentException("unknown label selector operator '" + op + "' for key " + key
            + " (expected In, NotIn, Exists or DoesNotExist)");
    }
  }

  private static void requireValues(LabelSelectorRequirement r, Set<String> values, boolean needed) {
    if (needed && values.isEmpty()) {
      throw new IllegalArgumentException("operator " + r.getOperator() + " on key " + r.getKey() + " needs values");
    }
    if (!needed && !values.isEmpty()) {
      throw new IllegalArgumentException("operator " + r.getOperator() + " on key " + r.getKey()
          + " takes no values, got " + values);
    }
  }
}
