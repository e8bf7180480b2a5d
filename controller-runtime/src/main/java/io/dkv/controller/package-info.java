/**
 * Level-triggered controllers in the Kubernetes style: rate-limited work queues, reconcilers, controllers,
 * a manager and leader election, over informers from any source (etcd keys through dkv-client, Kubernetes
 * objects through fabric8).
 *
 * <pre>{@code
 * Manager manager = Manager.builder()
 *     .leaderElector(LeaderElector.builder(client, "/leader/jobs").build())
 *     .httpAddress(new InetSocketAddress("127.0.0.1", 8081))      // /healthz /readyz /metrics
 *     .build();
 * manager.add(Controller.builder("jobs")
 *     .meterRegistry(manager.meterRegistry())
 *     .forResource(jobs)                // jobs: an informer of Versioned<Job>; requests are their keys
 *     .workers(4)
 *     .build(request -> {
 *       Optional<Versioned<Job>> job = jobs.lister().get(request.key());
 *       ...
 *       return Result.done();
 *     }));
 * manager.start();
 * }</pre>
 *
 * <ul>
 *   <li>{@link io.dkv.controller.Reconciler}, {@link io.dkv.controller.Request},
 *       {@link io.dkv.controller.Result}, {@link io.dkv.controller.TerminalException}: what a user writes.</li>
 *   <li>{@link io.dkv.controller.Controller} and its builder, {@link io.dkv.controller.EventHandler},
 *       {@link io.dkv.controller.EventFilter}: which changes become requests.</li>
 *   <li>{@link io.dkv.controller.Manager}, {@link io.dkv.controller.LeaderElector},
 *       {@link io.dkv.client.FencingToken} (dkv-client's): running controllers
 *       safely.</li>
 *   <li>{@link io.dkv.controller.WorkQueue}, {@link io.dkv.controller.DelayingQueue},
 *       {@link io.dkv.controller.RateLimitingQueue}, {@link io.dkv.controller.RateLimiter}: the queues
 *       underneath, usable alone.</li>
 * </ul>
 *
 * <p>The guide is {@code docs/controller.md}.
 */
package io.dkv.controller;
