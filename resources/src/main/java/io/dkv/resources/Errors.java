package io.dkv.resources;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.stream.Collectors;

/** The errors a Kubernetes API server gives, as fabric8 exceptions with a {@link Status}. */
final class Errors {
  static final int BAD_REQUEST = 400;
  static final int NOT_FOUND = 404;
  static final int CONFLICT = 409;
  static final int INVALID = 422;

  private Errors() {
  }

  static KubernetesClientException alreadyExists(ResourceType type, String name) {
    return error(CONFLICT, "AlreadyExists", type, name, type.qualifiedResource() + " \"" + name + "\" already exists",
        List.of());
  }

  static KubernetesClientException notFound(ResourceType type, String name) {
    return error(NOT_FOUND, "NotFound", type, name, type.qualifiedResource() + " \"" + name + "\" not found",
        List.of());
  }

  static KubernetesClientException conflict(ResourceType type, String name, String why) {
    return error(CONFLICT, "Conflict", type, name,
        "Operation cannot be fulfilled on " + type.qualifiedResource() + " \"" + name + "\": " + why, List.of());
  }

  static KubernetesClientException staleResourceVersion(ResourceType type, String name) {
    return conflict(type, name,
        "the object has been modified; please apply your changes to the latest version and try again");
  }

  static KubernetesClientException badRequest(ResourceType type, String name, String message) {
    return error(BAD_REQUEST, "BadRequest", type, name, message, List.of());
  }

  static KubernetesClientException invalid(ResourceType type, String name, List<StatusCause> causes) {
    String detail = causes.stream().map(c -> c.getField() + ": " + c.getMessage()).collect(Collectors.joining(", "));
    String message = type.kind() + " \"" + (name == null ? "" : name) + "\" is invalid: "
        + (causes.size() == 1 ? detail : "[" + detail + "]");
    return error(INVALID, "Invalid", type, name, message, causes);
  }

  private static KubernetesClientException error(int code, String reason, ResourceType type, String name,
      String message, List<StatusCause> causes) {
    Status status = new StatusBuilder()
        .withApiVersion("v1").withKind("Status")
        .withStatus("Failure").withCode(code).withReason(reason).withMessage(message)
        .withNewDetails()
        .withGroup(type.group().isEmpty() ? null : type.group())
        .withKind(reason.equals("Invalid") ? type.kind() : type.plural())
        .withName(name)
        .withCauses(causes)
        .endDetails()
        .build();
    return new KubernetesClientException(message, code, status);
  }
}
