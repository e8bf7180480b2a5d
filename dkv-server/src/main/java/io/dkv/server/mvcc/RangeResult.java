package io.dkv.server.mvcc;

import io.etcd.jetcd.api.KeyValue;
import java.util.List;

/**
 * The keys a range found: at most the limit asked for, {@code count} of them in all, read from a store whose
 * current revision was {@code rev}.
 */
public record RangeResult(List<KeyValue> kvs, long count, long rev) {}
