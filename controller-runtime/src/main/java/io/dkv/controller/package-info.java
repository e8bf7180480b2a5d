/**
 * Level-triggered controllers in the Kubernetes style: rate-limited work queues, reconcilers, controllers,
 * a manager and leader election, over informers from any source.
 */
package io.dkv.controller;
