package io.dkv.server.watch;

/**
 * The sending side of one client's Watch stream, as the hub sees it: the transport (the gRPC Watch service)
 * implements it. The hub calls it from its own thread only.
 */
public interface WatchOutput {

  /**
   * True while the client takes what is sent (the transport's buffer has room). While it is false the hub
   * sends this stream no events: its watchers drop back to unsynced and catch up from storage once the
   * transport reports it drained ({@link WatchHub.Session#drained()}).
   */
  boolean isReady();

  /**
   * Sends one response: a {@link io.etcd.jetcd.api.WatchResponse}, or a pre-encoded one that only
   * {@link WatchHub#RESPONSE_MARSHALLER} can write.
   */
  void send(Object response);

  /** Ends the stream because the server is stopping (etcd: UNAVAILABLE, "etcdserver: server stopped"). */
  void stop();
}
