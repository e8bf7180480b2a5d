package io.dkv.resources;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Objects to JSON and back through fabric8's serialization; JSON trees for the parts of an object
 * (metadata, status, the rest) that the store treats differently.
 */
final class Json {
  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final ObjectMapper trees = new ObjectMapper();

  /** The object as fabric8 serializes it, as a tree. */
  ObjectNode tree(Object object) {
    return parse(serialization.asJson(object).getBytes(StandardCharsets.UTF_8));
  }

  /** The stored bytes of a tree. */
  byte[] bytes(JsonNode tree) {
    try {
      return trees.writeValueAsBytes(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  ObjectNode parse(byte[] bytes) {
    try {
      return asObject(trees.readTree(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException("stored object is not JSON", e);
    }
  }

  /** The labels of an object tree ({@code metadata.labels}; none when absent). */
  static java.util.Map<String, String> labels(ObjectNode object) {
    JsonNode labels = metadata(object).get("labels");
    if (labels == null || !labels.isObject()) {
      return java.util.Map.of();
    }
    java.util.Map<String, String> out = new java.util.HashMap<>();
    labels.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }

  /** The tree as an object of {@code type}, through fabric8's deserialization. */
  <T> T object(JsonNode tree, Class<T> type) {
    try {
      return serialization.unmarshal(trees.writeValueAsString(tree), type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  /** Everything but metadata and status: what a change to bumps the generation. */
  static ObjectNode specPart(ObjectNode object) {
    ObjectNode copy = object.deepCopy();
    copy.remove("metadata");
    copy.remove("status");
    return copy;
  }

  /** The metadata node of {@code object}, created empty if absent. */
  static ObjectNode metadata(ObjectNode object) {
    JsonNode m = object.get("metadata");
    if (m instanceof ObjectNode o) {
      return o;
    }
    return object.putObject("metadata");
  }

  /** Whether the metadata lists at least one finalizer. */
  static boolean hasFinalizers(ObjectNode metadata) {
    JsonNode f = metadata.get("finalizers");
    return f != null && f.isArray() && !f.isEmpty();
  }

  private static ObjectNode asObject(JsonNode node) {
    if (node instanceof ObjectNode o) {
      return o;
    }
    throw new IllegalArgumentException("not a JSON object: " + node);
  }
}
