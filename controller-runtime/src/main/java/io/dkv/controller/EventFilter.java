package io.dkv.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Decides which changes reach a controller's queue (controller-runtime's predicates). Filters compose with
 * {@link #and}, {@link #or} and {@link #negate}.
 *
 * <pre>{@code
 * EventFilter<Object> specOrLabels = EventFilter.generationChanged()
 *     .or(EventFilter.labelsChanged());
 * EventFilter<Job> enabled = EventFilter.of(Job::enabled);
 * }</pre>
 *
 * <p>The Kubernetes filters ({@link #generationChanged()}, {@link #resourceVersionChanged()},
 * {@link #labelSelector}) read {@code metadata} and throw {@link IllegalArgumentException} for objects that
 * are not {@link HasMetadata}.
 *
 * @param <T> the object type
 */
public interface EventFilter<T> {

  /** Whether an addition passes. */
  default boolean add(T object) {
    return true;
  }

  /** Whether a change passes. */
  default boolean update(T before, T after) {
    return true;
  }

  /** Whether a deletion passes. */
  default boolean delete(T object) {
    return true;
  }

  /** Both filters must pass. */
  default EventFilter<T> and(EventFilter<? super T> other) {
    Objects.requireNonNull(other, "other");
    EventFilter<T> self = this;
    return new EventFilter<>() {
      @Override
      public boolean add(T o) {
        return self.add(o) && other.add(o);
      }

      @Override
      public boolean update(T b, T a) {
        return self.update(b, a) && other.update(b, a);
      }

      @Override
      public boolean delete(T o) {
        return self.delete(o) && other.delete(o);
      }
    };
  }

  /** Either filter must pass. */
  default EventFilter<T> or(EventFilter<? super T> other) {
    Objects.requireNonNull(other, "other");
    EventFilter<T> self = this;
    return new EventFilter<>() {
      @Override
      public boolean add(T o) {
        return self.add(o) || other.add(o);
      }

      @Override
      public boolean update(T b, T a) {
        return self.update(b, a) || other.update(b, a);
      }

      @Override
      public boolean delete(T o) {
        return self.delete(o) || other.delete(o);
      }
    };
  }

  /** Passes what this filter rejects. */
  default EventFilter<T> negate() {
    EventFilter<T> self = this;
    return new EventFilter<>() {
      @Override
      public boolean add(T o) {
        return !self.add(o);
      }

      @Override
      public boolean update(T b, T a) {
        return !self.update(b, a);
      }

      @Override
      public boolean delete(T o) {
        return !self.delete(o);
      }
    };
  }

  /** Passes what {@code filter} rejects. */
  static <T> EventFilter<T> not(EventFilter<T> filter) {
    return filter.negate();
  }

  /** A user-defined filter: an event passes when the object (after the change, for updates) matches. */
  static <T> EventFilter<T> of(Predicate<? super T> test) {
    Objects.requireNonNull(test, "test");
    return new EventFilter<>() {
      @Override
      public boolean add(T o) {
        return test.test(o);
      }

      @Override
      public boolean update(T b, T a) {
        return test.test(a);
      }

      @Override
      public boolean delete(T o) {
        return test.test(o);
      }
    };
  }

  /**
   * Changes pass only when {@code metadata.generation} changed (the spec changed; status-only updates and
   * resyncs do not pass). Additions and deletions pass.
   */
  static <T> EventFilter<T> generationChanged() {
    return new EventFilter<>() {
      @Override
      public boolean update(T before, T after) {
        return before == null || !Objects.equals(Meta.of(before).getGeneration(), Meta.of(after).getGeneration());
      }
    };
  }

  /** Changes pass only when {@code metadata.resourceVersion} changed (resyncs do not pass). */
  static <T> EventFilter<T> resourceVersionChanged() {
    return new EventFilter<>() {
      @Override
      public boolean update(T before, T after) {
        return before == null
            || !Objects.equals(Meta.of(before).getResourceVersion(), Meta.of(after).getResourceVersion());
      }
    };
  }

  /** Changes pass only when {@code metadata.labels} changed. */
  static <T> EventFilter<T> labelsChanged() {
    return new EventFilter<>() {
      @Override
      public boolean update(T before, T after) {
        return before == null || !Objects.equals(Meta.labels(before), Meta.labels(after));
      }
    };
  }

  /**
   * Events pass when the object's labels match {@code selector} ({@code matchLabels} and
   * {@code matchExpressions} with In, NotIn, Exists, DoesNotExist; see {@link LabelSelectors}); a null or empty
   * selector matches everything.
   * An update passes when the object matched before or after it (so leaving the selection is seen).
   */
  static <T> EventFilter<T> labelSelector(LabelSelector selector) {
    Predicate<Map<String, String>> matcher = LabelSelectors.matcher(selector);
    return new EventFilter<>() {
      @Override
      public boolean add(T o) {
        return matcher.test(Meta.labels(o));
      }

      @Override
      public boolean update(T b, T a) {
        return (b != null && matcher.test(Meta.labels(b))) || matcher.test(Meta.labels(a));
      }

      @Override
      public boolean delete(T o) {
        return matcher.test(Meta.labels(o));
      }
    };
  }

  /** Events pass when the object has every label in {@code labels}. */
  static <T> EventFilter<T> labelSelector(Map<String, String> labels) {
    Objects.requireNonNull(labels, "labels");
    LabelSelector s = new LabelSelector();
    s.setMatchLabels(Map.copyOf(labels));
    return labelSelector(s);
  }
}
