package io.dkv.examples.docs;

import io.dkv.server.DkvServer;
import java.io.IOException;
import io.dkv.client.Codec;
import io.dkv.client.Counter;
import io.dkv.client.DistributedLock;
import io.dkv.client.DkvClient;
import io.dkv.client.Election;
import io.dkv.client.FencedWrite;
import io.dkv.client.FencingToken;
import io.dkv.client.Lease;
import io.dkv.client.Leadership;
import io.dkv.client.ListWatch;
import io.dkv.client.LockHandle;
import io.dkv.client.Presence;
import io.dkv.client.Subscription;
import io.dkv.client.Versioned;
import io.dkv.client.WatchEvent;
import io.dkv.client.WatchHandler;
import io.dkv.client.WatchOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The code of docs/client.md and the README's tour, compiled here and run by {@link ClientGuideTest}; the docs
 * include the regions (DocsSnippetsTest keeps them equal).
 */
class ClientGuide {

  static final Logger log = LoggerFactory.getLogger(ClientGuide.class);

  /** The value type of the examples. */
  record Order(String id, int quantity) {
  }

  /** What the watch example keeps current. */
  static final class OrderCache {
    final Map<String, Order> orders = new ConcurrentHashMap<>();

    void reset(List<Versioned<Order>> values) {
      orders.clear();
      values.forEach(v -> orders.put(v.key(), v.value()));
    }

    void apply(WatchEvent<Order> e) {
      if (e.type() == WatchEvent.Type.DELETE) {
        orders.remove(e.key());
      } else {
        orders.put(e.key(), e.value());
      }
    }
  }

  volatile boolean working = true;
  volatile boolean leading;
  volatile Set<String> assigned = Set.of();

  void stopWork() {
    working = false;
  }

  void stopLeading() {
    leading = false;
  }

  void rebalance(Set<String> members) {
    assigned = members;
  }

  static void readme(WatchHandler<Order> handler) throws InterruptedException {
    // region readme-tour
    try (DkvClient client = DkvClient.connect("http://127.0.0.1:2379")) {  // or in-process: docs/client.md
      client.put("order:1", new Order("o1", 3));                          // JSON, with its revision
      try (Subscription s = client.watchPrefix("order:", Codec.json(Order.class), WatchOptions.withSnapshot(), handler);
           LockHandle lock = client.lock("locks/orders", Duration.ofSeconds(10)).acquire()) {
        lock.put("last-order", "order:1");                                 // applied only while the lock is held
      }
    }
    // endregion
  }

  static void connecting() {
    // region connecting
    try (DkvClient client = DkvClient.connect("http://127.0.0.1:2379")) {
      // ... use the client
    }

    DkvClient client = DkvClient.builder()
        .endpoints("http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379")
        .connectTimeout(Duration.ofSeconds(3))   // default 5 s
        .requestTimeout(Duration.ofSeconds(10))  // how long a blocking call waits; default 30 s
        .build();
    // endregion
    client.close();
  }

  static void embedded(Path data) throws IOException {
    // region connecting-embedded
    // tests and single-node applications: an in-process dkv-server (module dkv-server) on a free loopback port,
    // storing in data (a Path)
    try (DkvServer server = DkvServer.builder().dataDir(data).port(0).start();
         DkvClient client = DkvClient.connect(server.endpoint())) {
      client.put("greeting", "hello");
    }
    // endregion
  }

  static Versioned<Order> typedValues(DkvClient client) {
    // region typed-values
    long rev = client.put("order:1", new Order("o1", 3));               // JSON; returns the write's revision
    Versioned<Order> o = client.get("order:1", Order.class).orElseThrow();
    // o.value(), o.createRevision(), o.modRevision(), o.version(), o.lease()
    List<Versioned<String>> all = client.list("config/", Codec.string());
    client.delete("order:1");                                            // true if it existed
    // endregion
    return o;
  }

  static Subscription watching(DkvClient client, OrderCache cache) {
    // region watching
    WatchHandler<Order> handler = new WatchHandler<>() {
      public void onSnapshot(List<Versioned<Order>> values, long revision) { cache.reset(values); }
      public void onEvent(WatchEvent<Order> e) { cache.apply(e); }   // type, key, value, previousValue, revision
      public void onCompacted(long compactRevision, List<WatchEvent<Order>> difference) { difference.forEach(cache::apply); }
    };
    Subscription s = client.watchPrefix("orders/", Codec.json(Order.class), WatchOptions.withSnapshot(), handler);
    // ... s.close() when done
    // endregion
    return s;
  }

  static ListWatch.Watch listWatch(DkvClient client, Map<String, Order> cache) {
    // region list-watch
    ListWatch<Order> source = ListWatch.prefix(client, "orders/", Codec.json(Order.class)).build();
    ListWatch.Page<Order> page = source.list(0, null, 500);               // the latest revision
    page.items().forEach(v -> cache.put(v.key(), v.value()));
    while (page.hasMore()) {                                               // every page at the first's revision
      page = source.list(page.revision(), page.continueFrom(), 500);
      page.items().forEach(v -> cache.put(v.key(), v.value()));
    }
    ListWatch.Watch watch = source.watch(page.revision(), new ListWatch.Sink<>() {   // every change after it
      public void changes(List<ListWatch.Change<Order>> changes, long serverRevision) {
        for (ListWatch.Change<Order> c : changes) {                        // ADDED, MODIFIED, DELETED
          if (c.value() == null) cache.remove(c.key()); else cache.put(c.key(), c.value().value());
        }
      }
      public void historyGone(long compactRevision) { /* compacted: list again */ }
      public void closed(Throwable cause) { /* watch again from the last revision seen */ }
    });
    // endregion
    return watch;
  }

  static long counters(DkvClient client) {
    // region counters
    Counter c = client.counter("stats/visits");   // a decimal string under the key; absent = 0
    long v = c.add(1);                             // returns the new value
    boolean ok = c.compareAndSet(v, 0);
    long now = c.get();
    // endregion
    return now;
  }

  Lease leases(DkvClient client) {
    // region leases
    Lease lease = client.leases().grant(Duration.ofSeconds(10));   // kept alive in the background
    lease.onLost(() -> stopWork());   // server says it expired, or no keep-alive succeeded within the TTL
    lease.lost();                     // the same, as a CompletableFuture
    lease.revoke();                   // deletes its keys; not a loss
    // endregion
    return lease;
  }

  static void locks(DkvClient client) throws InterruptedException {
    // region locks
    DistributedLock lock = client.lock("locks/orders", Duration.ofSeconds(10));   // lease TTL of each holder
    try (LockHandle h = lock.acquire()) {                 // blocks; or tryAcquire(timeout), acquireAsync()
      FencingToken token = h.fencingToken();              // lock key + create revision; grows per holder
      FencedWrite w = h.put("stats/last-order", "42");    // applied only while the lock is held
      if (w.rejected()) { /* someone else may hold it now: nothing was written */ }
    }                                                     // release(): deletes the key, revokes the lease
    // endregion
  }

  Optional<Versioned<String>> election(DkvClient client) throws InterruptedException {
    // region election
    Election e = client.election("elections/scheduler", Duration.ofSeconds(10));
    Leadership l = e.campaign("node-1");          // blocks until leader; or campaignAsync("node-1")
    l.onLost(() -> stopLeading());                // lease lost or leader key deleted: signalled at once
    l.proclaim("node-1 (epoch 2)");               // updates the value, only while leader
    Optional<Versioned<String>> now = e.leader();
    Subscription s = e.observe(leader -> log.info("leader: {}", leader.map(Versioned::value)));
    l.resign();                                   // the next candidate leads; not a loss
    // endregion
    s.close();
    return now;
  }

  Map<String, String> presence(DkvClient client) {
    // region presence
    Presence workers = client.presence("presence/workers/");
    Presence.Registration me = workers.register("worker-7", "10.0.0.7:8080", Duration.ofSeconds(10));
    Map<String, String> now = workers.members();                        // member id -> value
    Subscription s = workers.watch(members -> rebalance(members.keySet()));  // now, then after every change
    me.close();                                                         // leaves at once; a dead member's lease expires
    // endregion
    s.close();
    return now;
  }
}
