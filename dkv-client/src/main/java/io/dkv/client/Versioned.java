package io.dkv.client;

/**
 * A value read from the store with its revision metadata, as etcd reports it. It is also the object of every
 * etcd source: {@link ListWatch} items and changes, and so the objects of informers over etcd, which therefore
 * always know their key (as Kubernetes objects carry their metadata).
 *
 * <pre>{@code
 * Versioned<String> v = client.get("config/mode").orElseThrow();
 * long seen = v.modRevision(); // use it for a compare-and-set, or to resume a watch
 * }</pre>
 *
 * @param key            the key
 * @param value          the decoded value
 * @param createRevision the revision that created this key (since its last deletion)
 * @param modRevision    the revision of the last write to this key
 * @param version        how many writes this key had since its creation (1 after the first put)
 * @param lease          the id of the lease the key is attached to, 0 for none
 * @param <T>            the value type
 */
public record Versioned<T>(String key, T value, long createRevision, long modRevision, long version, long lease) {

  /** The same key and revisions with another value (for instance a trimmed copy of this one). */
  public <U> Versioned<U> withValue(U newValue) {
    return new Versioned<>(key, newValue, createRevision, modRevision, version, lease);
  }

  static <T> Versioned<T> of(io.etcd.jetcd.KeyValue kv, Codec<T> codec) {
    return new Versioned<>(Keys.string(kv.getKey()), codec.decode(kv.getValue().getBytes()), kv.getCreateRevision(),
        kv.getModRevision(), kv.getVersion(), kv.getLease());
  }
}
