package io.dkv.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The peer links of a cluster on loopback, each member's peer listener behind a proxy of its own, so that a test
 * can partition members. Members advertise the proxy's port as their peer URL, so every connection a member
 * receives from a peer passes its proxy; a connection is told apart by who dialed it from the {@code X-Server-From}
 * header (the dialer's member id, in hex) that etcd's peer transport (rafthttp) sends on every stream, pipeline and
 * snapshot request. A link between two members is blocked when exactly one of them is isolated; a blocked link's
 * connections stay open and forward nothing, holding their bytes (no reset, no loss, as TCP over a partition) until
 * {@link #heal}. A connection with no member id (a joining member's membership lookup) is blocked if it goes to an
 * isolated member.
 */
final class PeerNetwork implements AutoCloseable {
  private static final byte[] END_OF_HEAD = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  private final Proxy[] proxies;
  private final Map<String, Integer> memberOfId = new ConcurrentHashMap<>();
  private final Object lock = new Object();
  private Set<Integer> isolated = Set.of();
  private volatile boolean closed;

  /** Proxies on free loopback ports, proxy {@code i} forwarding to member {@code i}'s {@code peerPorts[i]}. */
  PeerNetwork(int[] peerPorts) throws IOException {
    proxies = new Proxy[peerPorts.length];
    for (int i = 0; i < peerPorts.length; i++) {
      proxies[i] = new Proxy(i, peerPorts[i]);
    }
  }

  /** The port member {@code i} advertises to its peers. */
  int advertisedPort(int i) {
    return proxies[i].server.getLocalPort();
  }

  /** Records that member id {@code id} is member {@code i} (ids change when a member is replaced). */
  void learn(long id, int i) {
    memberOfId.values().removeIf(m -> m == i);
    memberOfId.put(Long.toHexString(id), i);
  }

  /** Blocks every link between a member of {@code side} and a member outside it. */
  void isolate(Set<Integer> side) {
    synchronized (lock) {
      isolated = Set.copyOf(side);
    }
  }

  /** Unblocks every link. */
  void heal() {
    synchronized (lock) {
      isolated = Set.of();
      lock.notifyAll();
    }
  }

  private boolean blocked(String fromId, int to) {
    Integer from = fromId == null ? null : memberOfId.get(fromId);
    if (from == null) {
      return isolated.contains(to);
    }
    return isolated.contains(from) != isolated.contains(to);
  }

  private void awaitOpen(String fromId, int to) throws IOException {
    synchronized (lock) {
      while (blocked(fromId, to)) {
        if (closed) {
          throw new IOException("closed");
        }
        try {
          lock.wait(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    heal();
    for (Proxy p : proxies) {
      p.close();
    }
  }

  private final class Proxy {
    final int member;
    final int targetPort;
    final ServerSocket server;
    final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

    Proxy(int member, int targetPort) throws IOException {
      this.member = member;
      this.targetPort = targetPort;
      this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      daemon("peer-proxy-" + member, this::accept);
    }

    void accept() {
      while (!closed) {
        try {
          Socket client = server.accept();
          sockets.add(client);
          daemon("peer-proxy-" + member + "-conn", () -> serve(client));
        } catch (IOException e) {
          return;
        }
      }
    }

    void serve(Socket client) {
      try (client; Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort)) {
        sockets.add(upstream);
        client.setTcpNoDelay(true); // as etcd's own sockets (see TcpProxy)
        upstream.setTcpNoDelay(true);
        client.setSoTimeout(10_000);
        byte[] head = readHead(client.getInputStream());
        client.setSoTimeout(0);
        String from = header(head, "x-server-from");
        Thread back = daemon("peer-proxy-" + member + "-back", () -> pump(upstream, client, from, null));
        pump(client, upstream, from, head);
        back.join();
      } catch (IOException | InterruptedException e) {
        // the connection ends
      } finally {
        sockets.removeIf(Socket::isClosed);
      }
    }

    /** Copies {@code from} to {@code to} while the link is open, starting with {@code first} bytes already read. */
    void pump(Socket in, Socket out, String fromId, byte[] first) {
      byte[] buf = new byte[16384];
      try {
        InputStream is = in.getInputStream();
        OutputStream os = out.getOutputStream();
        if (first != null && first.length > 0) {
          awaitOpen(fromId, member);
          os.write(first);
          os.flush();
        }
        int n;
        while ((n = is.read(buf)) >= 0) {
          awaitOpen(fromId, member);
          os.write(buf, 0, n);
          os.flush();
        }
      } catch (IOException e) {
        // dropped
      } finally {
        closeQuietly(in);
        closeQuietly(out);
      }
    }

    void close() {
      closeQuietly(server);
      sockets.forEach(PeerNetwork::closeQuietly);
    }
  }

  /** The bytes up to and including the end of the first HTTP request head (or all there were, up to 16 KiB). */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (head.size() < 16384) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
      matched = b == END_OF_HEAD[matched] ? matched + 1 : (b == END_OF_HEAD[0] ? 1 : 0);
      if (matched == END_OF_HEAD.length) {
        break;
      }
    }
    return head.toByteArray();
  }

  private static String header(byte[] head, String name) {
    for (String line : new String(head, StandardCharsets.ISO_8859_1).split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
        return line.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
      }
    }
    return null;
  }

  private static Thread daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // closing anyway
    }
  }
}
