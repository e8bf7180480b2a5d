package io.dkv.resources;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.StatusCause;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Kubernetes' validation of object metadata (names, labels, finalizers, owner references). */
final class Validation {
  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final Pattern DNS1123_LABEL = Pattern.compile(LABEL);
  private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");
  private static final Pattern QUALIFIED_NAME_PART = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");

  private static final String SUBDOMAIN_RULE = "a lowercase RFC 1123 subdomain must consist of lower case "
      + "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
      + "(e.g. 'example.com', regex used for validation is '" + DNS1123_SUBDOMAIN.pattern() + "')";
  private static final String LABEL_RULE = "a lowercase RFC 1123 label must consist of lower case alphanumeric "
      + "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', "
      + "regex used for validation is '" + DNS1123_LABEL.pattern() + "')";
  private static final String QUALIFIED_RULE = "name part must consist of alphanumeric characters, '-', '_' or '.', "
      + "and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex "
      + "used for validation is '" + QUALIFIED_NAME_PART.pattern() + "')";

  private final List<StatusCause> causes = new ArrayList<>();

  private Validation() {
  }

  /** The problems of {@code metadata} (an object's metadata node, never null). */
  static List<StatusCause> metadata(ObjectNode metadata, boolean namespaced) {
    Validation v = new Validation();
    v.name(text(metadata, "name"));
    if (namespaced) {
      v.namespace(text(metadata, "namespace"));
    }
    v.labels(metadata.get("labels"));
    v.finalizers(metadata.get("finalizers"));
    v.ownerReferences(metadata.get("ownerReferences"));
    return v.causes;
  }

  /** The problems of a resourceVersion given as an update's precondition. */
  static List<StatusCause> resourceVersionForUpdate(String resourceVersion) {
    Validation v = new Validation();
    if (resourceVersion == null || resourceVersion.isEmpty()) {
      v.cause("metadata.resourceVersion", "FieldValueInvalid",
          "Invalid value: 0x0: must be specified for an update");
    }
    return v.causes;
  }

  private void name(String name) {
    if (name == null || name.isEmpty()) {
      cause("metadata.name", "FieldValueRequired", "Required value: name or generateName is required");
      return;
    }
    if (name.length() > 253) {
      cause("metadata.name", "FieldValueInvalid", invalidValue(name) + "must be no more than 253 characters");
    } else if (!DNS1123_SUBDOMAIN.matcher(name).matches()) {
      cause("metadata.name", "FieldValueInvalid", invalidValue(name) + SUBDOMAIN_RULE);
    }
  }

  private void namespace(String namespace) {
    if (namespace == null || namespace.isEmpty()) {
      cause("metadata.namespace", "FieldValueRequired", "Required value: the kind is namespaced");
      return;
    }
    if (namespace.length() > 63) {
      cause("metadata.namespace", "FieldValueInvalid", invalidValue(namespace) + "must be no more than 63 characters");
    } else if (!DNS1123_LABEL.matcher(namespace).matches()) {
      cause("metadata.namespace", "FieldValueInvalid", invalidValue(namespace) + LABEL_RULE);
    }
  }

  private void labels(JsonNode labels) {
    if (labels == null || labels.isNull()) {
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      qualifiedName("metadata.labels", e.getKey());
      String value = e.getValue().isNull() ? "" : e.getValue().asText();
      if (value.length() > 63) {
        cause("metadata.labels", "FieldValueInvalid", invalidValue(value) + "must be no more than 63 characters");
      } else if (!LABEL_VALUE.matcher(value).matches()) {
        cause("metadata.labels", "FieldValueInvalid", invalidValue(value) + "a valid label must be an empty string "
            + "or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            + "character");
      }
    }
  }

  private void finalizers(JsonNode finalizers) {
    if (finalizers == null || finalizers.isNull()) {
      return;
    }
    for (JsonNode f : finalizers) {
      qualifiedName("metadata.finalizers", f.asText());
    }
  }

  private void ownerReferences(JsonNode refs) {
    if (refs == null || refs.isNull()) {
      return;
    }
    int controllers = 0;
    Set<String> uids = new HashSet<>();
    int i = 0;
    for (JsonNode ref : refs) {
      String field = "metadata.ownerReferences[" + i++ + "]";
      for (String required : List.of("apiVersion", "kind", "name", "uid")) {
        if (text(ref, required) == null || text(ref, required).isEmpty()) {
          cause(field + "." + required, "FieldValueRequired", "Required value");
        }
      }
      String uid = text(ref, "uid");
      if (uid != null && !uid.isEmpty() && !uids.add(uid)) {
        cause(field + ".uid", "FieldValueDuplicate", "Duplicate value: \"" + uid + "\"");
      }
      if (ref.path("controller").asBoolean(false)) {
        controllers++;
      }
    }
    if (controllers > 1) {
      cause("metadata.ownerReferences", "FieldValueInvalid",
          "Invalid value: only one reference can have Controller set to true, found " + controllers);
    }
  }

  private void qualifiedName(String field, String value) {
    String name = value;
    int slash = value.indexOf('/');
    if (slash >= 0) {
      String prefix = value.substring(0, slash);
      name = value.substring(slash + 1);
      if (prefix.isEmpty()) {
        cause(field, "FieldValueInvalid", invalidValue(value) + "prefix part must be non-empty");
        return;
      }
      if (prefix.length() > 253 || !DNS1123_SUBDOMAIN.matcher(prefix).matches()) {
        cause(field, "FieldValueInvalid", invalidValue(value) + "prefix part " + SUBDOMAIN_RULE);
        return;
      }
    }
    if (name.isEmpty()) {
      cause(field, "FieldValueInvalid", invalidValue(value) + "name part must be non-empty");
    } else if (name.length() > 63) {
      cause(field, "FieldValueInvalid", invalidValue(value) + "name part must be no more than 63 characters");
    } else if (!QUALIFIED_NAME_PART.matcher(name).matches()) {
      cause(field, "FieldValueInvalid", invalidValue(value) + QUALIFIED_RULE);
    }
  }

  private void cause(String field, String reason, String message) {
    causes.add(new StatusCause(field, message, reason));
  }

  private static String invalidValue(String value) {
    return "Invalid value: \"" + value + "\": ";
  }

  static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
