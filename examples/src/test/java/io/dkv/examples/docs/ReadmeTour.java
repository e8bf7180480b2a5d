package io.dkv.examples.docs;

import io.dkv.client.Codec;
import io.dkv.client.DkvClient;
import io.dkv.client.Versioned;
import io.dkv.controller.Controller;
import io.dkv.controller.Manager;
import io.dkv.controller.Result;
import io.dkv.examples.docs.ClientGuide.Order;
import io.dkv.informer.ListerWatchers;
import io.dkv.informer.ResourceEventHandler;
import io.dkv.informer.SharedIndexInformer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The informer and controller of the README's tour; {@link ReadmeTourTest} runs it. */
class ReadmeTour {

  static final Logger log = LoggerFactory.getLogger(ReadmeTour.class);

  static Manager invoices(DkvClient client) {
    // region readme-informer-controller
    SharedIndexInformer<Versioned<Order>> orders = SharedIndexInformer          // objects carry key and revisions
        .builder(ListerWatchers.etcd(client, "orders/", Codec.json(Order.class)))   // list, then watch
        .build();
    orders.addEventHandler(new ResourceEventHandler<>() {                           // deltas, in order
      public void onAdd(Versioned<Order> o, boolean initial) { log.info("{} ({})", o.key(), initial ? "listed" : "new"); }
    });
    Manager manager = Manager.builder().build();
    manager.add(Controller.builder("invoices")
        .forResource(orders)                             // a change of orders/<id> enqueues the key orders/<id>
        .build(request -> {                              // level-triggered: make the world match the cache
          String invoice = "invoices/" + request.key().substring("orders/".length());
          Optional<Versioned<Order>> order = orders.lister().get(request.key());  // local, no server read
          if (order.isPresent()) {
            client.put(invoice, "invoice for " + order.get().value().quantity() + " items");
          } else {
            client.delete(invoice);
          }
          return Result.done();
        }));
    manager.start();                                     // starts the informer, waits for its sync, then reconciles
    // endregion
    return manager;
  }
}
