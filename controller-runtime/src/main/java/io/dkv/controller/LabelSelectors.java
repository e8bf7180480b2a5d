package io.dkv.controller;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Kubernetes label selector semantics, for code that matches labels itself (the resources module's stores, your
 * own caches); {@link EventFilter#labelSelector} uses the same rules. A selector is {@code matchLabels} and
 * {@code matchExpressions} (In, NotIn, Exists, DoesNotExist), all of which must hold.
 *
 * <p><b>The null rule</b>: a null selector is no selector and matches every object, as an omitted
 * {@code labelSelector} of a Kubernetes list or watch does; so does an empty one (no labels, no expressions).
 *
 * <pre>{@code
 * Predicate<Map<String, String>> web = LabelSelectors.matcher(selector);
 * boolean in = web.test(pod.getMetadata().getLabels());
 * String query = LabelSelectors.format(selector);   // "app=web,tier in (db,cache),!legacy"
 * }</pre>
 *
 * Kubernetes-specific: it needs fabric8's model on the class path.
 */
public final class LabelSelectors {
  private LabelSelectors() {}

  /**
   * A test of label maps (a null map is no labels) against {@code selector} (null: matches everything).
   *
   * @throws IllegalArgumentException if the selector is invalid: an expression without a key, an unknown
   *                                  operator, In/NotIn without values, Exists/DoesNotExist with values
   */
  public static Predicate<Map<String, String>> matcher(LabelSelector selector) {
    if (selector == null) {
      return labels -> true;
    }
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
    return labels -> {
      Map<String, String> l = labels == null ? Map.of() : labels;
      for (Predicate<Map<String, String>> p : parts) {
        if (!p.test(l)) {
          return false;
        }
      }
      return true;
    };
  }

  /**
   * {@code selector} in Kubernetes' string syntax (the {@code labelSelector} query parameter), like
   * {@code app=web,tier in (db,cache),!legacy}; "" for null or empty (everything).
   *
   * @throws IllegalArgumentException if the selector is invalid (see {@link #matcher})
   */
  public static String format(LabelSelector selector) {
    matcher(selector);
    if (selector == null) {
      return "";
    }
    List<String> parts = new ArrayList<>();
    if (selector.getMatchLabels() != null) {
      new java.util.TreeMap<>(selector.getMatchLabels()).forEach((k, v) -> parts.add(k + "=" + v));
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        switch (r.getOperator()) {
          case "Exists" -> parts.add(r.getKey());
          case "DoesNotExist" -> parts.add("!" + r.getKey());
          default -> parts.add(r.getKey() + " " + r.getOperator().toLowerCase(Locale.ROOT) + " ("
              + String.join(",", r.getValues()) + ")");
        }
      }
    }
    return String.join(",", parts);
  }

  private static Predicate<Map<String, String>> requirement(LabelSelectorRequirement r) {
    String key = r.getKey();
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("a label selector requirement needs a key: " + r);
    }
    Set<String> values = r.getValues() == null ? Set.of() : Set.copyOf(r.getValues());
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
