package io.dkv.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dkv.client.Versioned;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The default key of {@code forResource(informer)} and {@code EventHandler.enqueueObject()}. */
class ObjectKeysTest {

  @Test
  void anEtcdObjectIsRequestedByItsKey() {
    Versioned<String> v = new Versioned<>("in/x", "hello", 5, 7, 2, 0);
    assertEquals(Request.ofKey("in/x"), ObjectKeys.requestOf(v));
    List<Request> q = new ArrayList<>();
    EventHandler<Versioned<String>> h = EventHandler.enqueueObject();
    h.onAdd(v, q::add);
    h.onUpdate(v, new Versioned<>("in/x", "bye", 5, 8, 3, 0), q::add);
    h.onDelete(v, q::add);
    assertEquals(List.of(Request.ofKey("in/x"), Request.ofKey("in/x"), Request.ofKey("in/x")), q);
  }

  @Test
  void aKubernetesObjectIsRequestedByNamespaceAndName() {
    ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withNamespace("shop").withName("settings")
        .endMetadata().build();
    assertEquals(Request.of("shop", "settings"), ObjectKeys.requestOf(cm));
    Namespace ns = new NamespaceBuilder().withNewMetadata().withName("shop").endMetadata().build();
    assertEquals(Request.of("", "shop"), ObjectKeys.requestOf(ns), "cluster-scoped: the name");
    GenericKubernetesResource g = new GenericKubernetesResource();
    g.setMetadata(cm.getMetadata());
    assertEquals(Request.of("shop", "settings"), ObjectKeys.requestOf(g));
    assertTrue(ObjectKeys.isKubernetes(ConfigMap.class));
    assertFalse(ObjectKeys.isKubernetes(Versioned.class));
  }

  @Test
  void otherObjectsNeedAKeyFunction() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ObjectKeys.requestOf("plain"));
    assertTrue(e.getMessage().startsWith("cannot tell the key of a java.lang.String"), e.getMessage());
    assertTrue(e.getMessage().contains("forResource(informer, o -> Request.ofKey(...))"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ObjectKeys.requestOf(null));
  }
}
