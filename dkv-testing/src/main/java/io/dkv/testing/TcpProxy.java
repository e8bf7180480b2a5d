package io.dkv.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy in front of a server, so a test can break a client's network while the server runs on:
 * {@link #dropConnections()} resets every connection (clients reconnect at once), {@link #pause()} /
 * {@link #resume()} refuses connections for a while, and {@link #blackhole()} / {@link #heal()} keeps
 * connections open but drops every byte both ways, as a network partition does (no reset: clients only notice by
 * timing out).
 *
 * <pre>{@code
 * try (TcpProxy proxy = new TcpProxy(server.port())) {
 *   DkvClient client = DkvClient.connect(proxy.endpoint());
 *   proxy.pause();  // the client loses its server
 *   proxy.resume(); // and gets it back
 * }
 * }</pre>
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile int targetPort;
  private volatile boolean paused;
  private volatile boolean blackholed;
  private volatile boolean closed;

  /** A proxy on a free loopback port forwarding to {@code 127.0.0.1:targetPort}. */
  public TcpProxy(int targetPort) throws IOException {
    this(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), targetPort);
  }

  /** A proxy listening on {@code listen} (any local address, e.g. 127.0.1.2) forwarding to 127.0.0.1:targetPort. */
  public TcpProxy(java.net.InetSocketAddress listen, int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(listen, 50);
    Thread t = new Thread(this::accept, "tcp-proxy-" + server.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  /** A proxy forwarding to the port of a client URL such as {@code http://127.0.0.1:2379}. */
  public TcpProxy(String targetEndpoint) throws IOException {
    this(URI.create(targetEndpoint).getPort());
  }

  /** The proxy's client URL, {@code http://127.0.0.1:<port>}. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Forwards new connections to another port (a restarted server). */
  public void target(int port) {
    this.targetPort = port;
  }

  /** Closes every open connection (clients reconnect at once). */
  public void dropConnections() {
    for (Socket s : sockets) {
      closeQuietly(s);
      sockets.remove(s); // not clear(): a connection accepted meanwhile must stay tracked, or no later drop closes it
    }
  }

  /** Drops every connection and refuses new ones until {@link #resume()}. */
  public void pause() {
    paused = true;
    dropConnections();
  }

  /** Accepts connections again after {@link #pause()}. */
  public void resume() {
    paused = false;
  }

  /** Keeps connections open but forwards no byte in either direction until {@link #heal()}. */
  public void blackhole() {
    blackholed = true;
  }

  /** Forwards bytes again after {@link #blackhole()} (what was dropped meanwhile stays lost). */
  public void heal() {
    blackholed = false;
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      if (paused) {
        closeQuietly(client);
        continue;
      }
      try {
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        // as the peers' own sockets: without it Nagle holds each small write for the last one's delayed ACK
        // (40 ms on Linux), and a Raft round through the proxy took 100 ms
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(upstream);
        if (paused) { // pause() may have dropped the connections just before these two were added
          closeQuietly(client);
          closeQuietly(upstream);
          continue;
        }
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        closeQuietly(client);
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (!blackholed) {
            out.write(buf, 0, n);
            out.flush();
          }
        }
      } catch (IOException e) {
        // connection dropped
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        sockets.remove(from);
        sockets.remove(to);
      }
    }, "tcp-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(AutoCloseable s) {
    try {
      s.close();
    } catch (Exception ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    dropConnections();
  }
}
