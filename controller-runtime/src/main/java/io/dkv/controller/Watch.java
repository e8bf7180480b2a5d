package io.dkv.controller;

import io.dkv.informer.HandlerRegistration;
import io.dkv.informer.ResourceEventHandler;
import io.dkv.informer.SharedIndexInformer;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One informer a controller watches, with its handler and filters. */
record Watch<T>(SharedIndexInformer<T> informer, EventHandler<? super T> handler,
    List<EventFilter<? super T>> filters) {

  private static final Logger log = LoggerFactory.getLogger(Watch.class);

  Watch {
    filters = List.copyOf(filters);
  }

  /** Registers the handler on the informer, feeding {@code queue}. */
  HandlerRegistration register(String controller, Consumer<Request> queue) {
    return informer.addEventHandler(new ResourceEventHandler<T>() {
      @Override
      public void onAdd(T object, boolean initial) {
        try {
          for (EventFilter<? super T> f : filters) {
            if (!f.add(object)) {
              return;
            }
          }
          handler.onAdd(object, queue);
        } catch (RuntimeException e) {
          log.error("controller {}: handling an addition failed", controller, e);
        }
      }

      @Override
      public void onUpdate(T before, T after) {
        try {
          for (EventFilter<? super T> f : filters) {
            if (!f.update(before, after)) {
              return;
            }
          }
          handler.onUpdate(before, after, queue);
        } catch (RuntimeException e) {
          log.error("controller {}: handling an update failed", controller, e);
        }
      }

      @Override
      public void onDelete(T object, boolean finalStateUnknown) {
        try {
          for (EventFilter<? super T> f : filters) {
            if (!f.delete(object)) {
              return;
            }
          }
          handler.onDelete(object, queue);
        } catch (RuntimeException e) {
          log.error("controller {}: handling a deletion failed", controller, e);
        }
      }
    });
  }
}
