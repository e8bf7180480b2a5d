/**
 * The API of dkv-server, and its only exported package: {@link io.dkv.server.DkvServer} (a server embedded in
 * a JVM, started from its builder) and {@link io.dkv.server.Main} (the standalone server, with etcd's flags).
 *
 * <p>Owns the wiring: the order in which a server's parts start, and their unwinding, in reverse, through one
 * closer, on a failed start and on close. Its public types refer to no type of the other packages, which are
 * internal (checked by {@code ApiSurfaceTest}). May depend on every package of dkv-server.
 *
 * <p>Thread-safety: a started {@code DkvServer} may be used and closed from any thread; a {@code Builder} is
 * not thread-safe.
 */
package io.dkv.server;
