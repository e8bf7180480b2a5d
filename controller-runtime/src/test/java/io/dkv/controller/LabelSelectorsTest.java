package io.dkv.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The one label selector implementation, and its one null rule: null (like empty) matches everything. */
class LabelSelectorsTest {

  private static final Map<String, String> WEB = Map.of("app", "web", "tier", "front");
  private static final Map<String, String> DB = Map.of("app", "db");

  @Test
  void aNullSelectorMatchesEverythingLikeAnEmptyOne() {
    for (LabelSelector everything : new LabelSelector[] {null, new LabelSelector()}) {
      Predicate<Map<String, String>> m = LabelSelectors.matcher(everything);
      assertTrue(m.test(WEB));
      assertTrue(m.test(Map.of()));
      assertTrue(m.test(null), "a null label map is no labels");
      assertEquals("", LabelSelectors.format(everything));
    }
    Pod unlabelled = new PodBuilder().withNewMetadata().withName("p").endMetadata().build();
    assertTrue(EventFilter.<Pod>labelSelector((LabelSelector) null).add(unlabelled), "the filters follow it too");
  }

  @Test
  void matchLabelsAndExpressionsMustAllHold() {
    LabelSelector s = new LabelSelectorBuilder().withMatchLabels(Map.of("app", "web"))
        .addNewMatchExpression().withKey("tier").withOperator("In").withValues("front", "back").endMatchExpression()
        .addNewMatchExpression().withKey("canary").withOperator("DoesNotExist").endMatchExpression()
        .build();
    Predicate<Map<String, String>> m = LabelSelectors.matcher(s);
    assertTrue(m.test(WEB));
    assertFalse(m.test(DB));
    Map<String, String> canary = new HashMap<>(WEB);
    canary.put("canary", "true");
    assertFalse(m.test(canary));
    assertFalse(m.test(null), "no labels: app=web does not hold");
    assertEquals("app=web,tier in (front,back),!canary", LabelSelectors.format(s));

    LabelSelector notIn = new LabelSelectorBuilder()
        .addNewMatchExpression().withKey("app").withOperator("NotIn").withValues("web").endMatchExpression()
        .addNewMatchExpression().withKey("tier").withOperator("Exists").endMatchExpression().build();
    assertFalse(LabelSelectors.matcher(notIn).test(WEB));
    assertFalse(LabelSelectors.matcher(notIn).test(DB), "no tier");
    assertTrue(LabelSelectors.matcher(notIn).test(Map.of("tier", "x")), "NotIn holds when the label is absent");
    assertEquals("app notin (web),tier", LabelSelectors.format(notIn));
  }

  @Test
  void invalidSelectorsAreRefusedWithTheReason() {
    assertEquals("operator In on key app needs values", assertThrows(IllegalArgumentException.class,
        () -> LabelSelectors.matcher(new LabelSelectorBuilder().addNewMatchExpression().withKey("app")
            .withOperator("In").endMatchExpression().build())).getMessage());
    assertEquals("operator Exists on key app takes no values, got [x]", assertThrows(IllegalArgumentException.class,
        () -> LabelSelectors.format(new LabelSelectorBuilder().addNewMatchExpression().withKey("app")
            .withOperator("Exists").withValues("x").endMatchExpression().build())).getMessage());
    assertThrows(IllegalArgumentException.class, () -> LabelSelectors.matcher(new LabelSelectorBuilder()
        .addNewMatchExpression().withOperator("Exists").endMatchExpression().build()));
  }
}
