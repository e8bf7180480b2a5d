/**
 * Kubernetes-style resources stored in DKV or etcd: fabric8 model objects with resourceVersion
 * concurrency, spec/status separation, finalizers and owner-reference garbage collection.
 */
package io.dkv.resources;
