package io.dkv.examples.docs;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Version;

/** The custom resource of docs/resources.md: a spec with a counter. */
@Group("examples.dkv.io")
@Version("v1")
public class Widget extends CustomResource<Widget.Spec, Void> implements Namespaced {

  /** The desired state. */
  public static class Spec {
    private int count;

    public int getCount() {
      return count;
    }

    public void setCount(int count) {
      this.count = count;
    }
  }
}
