package io.dkv.client;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/** The keys under a prefix, kept current by a snapshot-then-watch; reports every change of the whole set. */
final class Members implements WatchHandler<String> {

  private final Map<String, Versioned<String>> byKey = new TreeMap<>();
  private final Consumer<Map<String, Versioned<String>>> onChange;

  private Members(Consumer<Map<String, Versioned<String>>> onChange) {
    this.onChange = onChange;
  }

  /** Watches {@code prefix}; {@code onChange} gets an immutable copy of the keys after the snapshot and each change. */
  static Subscription watch(DkvClient client, String prefix, Consumer<Map<String, Versioned<String>>> onChange) {
    return client.watchPrefix(prefix, Codec.string(), WatchOptions.withSnapshot(), new Members(onChange));
  }

  @Override
  public void onSnapshot(List<Versioned<String>> values, long revision) {
    byKey.clear();
    for (Versioned<String> v : values) {
      byKey.put(v.key(), v);
    }
    publish();
  }

  @Override
  public void onEvent(WatchEvent<String> e) {
    apply(e);
    publish();
  }

  @Override
  public void onCompacted(long compactRevision, List<WatchEvent<String>> difference) {
    difference.forEach(this::apply);
    publish();
  }

  private void apply(WatchEvent<String> e) {
    if (e.type() == WatchEvent.Type.DELETE) {
      byKey.remove(e.key());
    } else {
      Versioned<String> old = byKey.get(e.key());
      long create = old == null ? e.revision() : old.createRevision();
      long version = old == null ? 1 : old.version() + 1;
      byKey.put(e.key(), new Versioned<>(e.key(), e.value(), create, e.revision(), version, 0));
    }
  }

  private void publish() {
    onChange.accept(Collections.unmodifiableMap(new TreeMap<>(byKey)));
  }
}
