package io.dkv.resources;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.Objects;

/** A custom resource for tests: a spec with a counter and a note, a status with a phase. */
@Group("test.dkv.io")
@Version("v1")
public class Widget extends CustomResource<Widget.Spec, Widget.Status> implements Namespaced {

  /** The desired state. */
  public static class Spec {
    private int count;
    private String note;

    public int getCount() {
      return count;
    }

    public void setCount(int count) {
      this.count = count;
    }

    public String getNote() {
      return note;
    }

    public void setNote(String note) {
      this.note = note;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Spec s && s.count == count && Objects.equals(s.note, note);
    }

    @Override
    public int hashCode() {
      return Objects.hash(count, note);
    }
  }

  /** The observed state. */
  public static class Status {
    private String phase;
    private Long observedGeneration;

    public String getPhase() {
      return phase;
    }

    public void setPhase(String phase) {
      this.phase = phase;
    }

    public Long getObservedGeneration() {
      return observedGeneration;
    }

    public void setObservedGeneration(Long observedGeneration) {
      this.observedGeneration = observedGeneration;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Status s && Objects.equals(s.phase, phase)
          && Objects.equals(s.observedGeneration, observedGeneration);
    }

    @Override
    public int hashCode() {
      return Objects.hash(phase, observedGeneration);
    }
  }

  static Widget of(String namespace, String name, int count) {
    Widget w = new Widget();
    w.getMetadata().setNamespace(namespace);
    w.getMetadata().setName(name);
    Spec spec = new Spec();
    spec.setCount(count);
    w.setSpec(spec);
    return w;
  }
}
