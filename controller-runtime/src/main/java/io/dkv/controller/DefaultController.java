package io.dkv.controller;

import io.dkv.controller.ControllerMetrics.Outcome;
import io.dkv.informer.HandlerRegistration;
import io.dkv.informer.SharedIndexInformer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The controller: handlers feed the queue, workers reconcile what it hands out. */
final class DefaultController implements Controller {

  private static final Logger log = LoggerFactory.getLogger(DefaultController.class);

  private final String name;
  private final List<Watch<?>> watches;
  private final RateLimitingQueue<Request> queue;
  private final Reconciler reconciler;
  private final int workerCount;
  private final ControllerMetrics metrics;

  private final List<Thread> workers = new ArrayList<>();
  private final List<Registered> registrations = new ArrayList<>();
  private boolean started;
  private boolean stopped;

  DefaultController(String name, List<Watch<?>> watches, RateLimitingQueue<Request> queue, Reconciler reconciler,
      int workerCount, ControllerMetrics metrics) {
    this.name = name;
    this.watches = List.copyOf(watches);
    this.queue = queue;
    this.reconciler = reconciler;
    this.workerCount = workerCount;
    this.metrics = metrics;
  }

  private record Registered(SharedIndexInformer<?> informer, HandlerRegistration registration) {}

  @Override
  public String name() {
    return name;
  }

  /** The informers this controller watches, each once. */
  Set<SharedIndexInformer<?>> informers() {
    Set<SharedIndexInformer<?>> all = new LinkedHashSet<>();
    for (Watch<?> w : watches) {
      all.add(w.informer());
    }
    return all;
  }

  @Override
  public synchronized void start() {
    if (stopped) {
      throw new IllegalStateException("controller " + name + " was stopped; a controller starts only once");
    }
    if (started) {
      return;
    }
    started = true;
    for (Watch<?> w : watches) {
      registrations.add(new Registered(w.informer(), w.register(name, queue::add)));
    }
    for (int i = 0; i < workerCount; i++) {
      Thread t = new Thread(this::work, "controller-" + name + "-worker-" + i);
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }
    log.info("controller {} started with {} workers", name, workerCount);
  }

  @Override
  public void stopNow() {
    List<Thread> running;
    synchronized (this) {
      beginStop(); // also when a graceful stop is under way: this one does not wait
      running = List.copyOf(workers);
    }
    queue.shutDown();
    running.forEach(Thread::interrupt);
    log.info("controller {} stopped at once", name);
  }

  @Override
  public void stop() throws InterruptedException {
    List<Thread> running;
    synchronized (this) {
      if (!beginStop()) {
        return;
      }
      running = List.copyOf(workers);
    }
    queue.shutDownWithDrain();
    for (Thread t : running) {
      t.join();
    }
    log.info("controller {} stopped", name);
  }

  /** Marks the controller stopped and removes its handlers; false if it already was. */
  private boolean beginStop() {
    if (stopped) {
      return false;
    }
    stopped = true;
    for (Registered r : registrations) {
      try {
        r.informer().removeEventHandler(r.registration());
      } catch (RuntimeException e) {
        log.warn("controller {}: removing an event handler failed", name, e);
      }
    }
    registrations.clear();
    return true;
  }

  @Override
  public synchronized boolean isRunning() {
    return started && !stopped;
  }

  @Override
  public int activeWorkers() {
    return metrics.active.get();
  }

  /** The queue, for tests. */
  RateLimitingQueue<Request> queue() {
    return queue;
  }

  private void work() {
    while (true) {
      Request request;
      try {
        request = queue.get();
      } catch (InterruptedException e) {
        return; // stopNow
      }
      if (request == null) {
        return;
      }
      metrics.active.incrementAndGet();
      try {
        reconcileOne(request);
      } finally {
        metrics.active.decrementAndGet();
        queue.done(request);
      }
    }
  }

  private void reconcileOne(Request request) {
    long start = System.nanoTime();
    Outcome outcome;
    boolean panic = false;
    try {
      Result result = reconciler.reconcile(request);
      queue.forget(request);
      if (result != null && result.isRequeue()) {
        queue.addAfter(request, result.requeueAfter());
        outcome = Outcome.REQUEUE_AFTER;
      } else {
        outcome = Outcome.SUCCESS;
      }
    } catch (TerminalException e) {
      queue.forget(request);
      outcome = Outcome.TERMINAL_ERROR;
      log.error("controller {}: reconciling {} failed terminally, not retrying: {}", name, request, e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome = Outcome.ERROR;
      if (!queue.isShuttingDown()) {
        queue.addRateLimited(request);
        log.warn("controller {}: reconciling {} was interrupted; retrying", name, request);
      }
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError) {
        throw (VirtualMachineError) e;
      }
      if (queue.isShuttingDown()) {
        outcome = Outcome.ERROR; // cut short by stopNow(): not a bug of the reconciler
        log.debug("controller {}: reconciling {} ended by the stop: {}", name, request, e.toString());
        metrics.reconciled(outcome, System.nanoTime() - start, false);
        return;
      }
      panic = true;
      outcome = Outcome.ERROR;
      queue.addRateLimited(request);
      log.error("controller {}: reconciling {} threw an unexpected exception; retry {} with backoff", name, request,
          queue.numRequeues(request), e);
    } catch (Exception e) {
      outcome = Outcome.ERROR;
      if (queue.isShuttingDown()) {
        log.debug("controller {}: reconciling {} ended by the stop: {}", name, request, e.toString());
        metrics.reconciled(outcome, System.nanoTime() - start, false);
        return;
      }
      queue.addRateLimited(request);
      log.warn("controller {}: reconciling {} failed; retry {} with backoff: {}", name, request,
          queue.numRequeues(request), e.toString());
    }
    metrics.reconciled(outcome, System.nanoTime() - start, panic);
    if (Thread.interrupted() && !queue.isShuttingDown()) {
      log.debug("controller {}: cleared a stray interrupt after reconciling {}", name, request);
    }
  }

  @Override
  public String toString() {
    return "Controller[" + name + "]";
  }
}
