package io.dkv.examples.docs;

import io.dkv.testing.TestServer;
import static org.awaitility.Awaitility.await;

import io.dkv.client.DkvClient;
import io.dkv.controller.Manager;
import io.dkv.examples.docs.ClientGuide.Order;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's informer and controller, run: invoices follow orders, including orders there before it started. */
class ReadmeTourTest {

  @Test
  void theInvoiceControllerKeepsOneInvoicePerOrder(@TempDir Path dir) throws Exception {
    try (TestServer.Running server = TestServer.DKV.start(dir); DkvClient client = DkvClient.connect(server.endpoint())) {
      client.put("orders/o1", new Order("o1", 3));                 // before the informer: listed
      client.put("invoices/stale", "an invoice whose order is gone");
      try (Manager manager = ReadmeTour.invoices(client)) {
        await().until(() -> client.get("invoices/o1").map(v -> v.value()).equals(Optional.of("invoice for 3 items")));
        client.put("orders/o2", new Order("o2", 5));               // after: watched
        await().until(() -> client.get("invoices/o2").isPresent());
        client.put("orders/o1", new Order("o1", 4));
        await().until(() -> client.get("invoices/o1").map(v -> v.value()).equals(Optional.of("invoice for 4 items")));
        client.delete("orders/o2");
        await().until(() -> client.get("invoices/o2").isEmpty());
      }
    }
  }
}
