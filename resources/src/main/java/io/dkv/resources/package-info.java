/**
 * Kubernetes-style resources stored in DKV or etcd: fabric8 model objects with resourceVersion
 * concurrency, spec/status separation, finalizers and owner-reference garbage collection.
 *
 * <p>Start from {@link io.dkv.resources.DkvResources#create}; get a {@link io.dkv.resources.ResourceClient} per
 * kind; run a {@link io.dkv.resources.GarbageCollector} for owner references. Errors are fabric8's
 * {@link io.fabric8.kubernetes.client.KubernetesClientException} with Kubernetes' HTTP codes and reasons.
 */
package io.dkv.resources;
