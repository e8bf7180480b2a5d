package io.dkv.server.watch;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Watch responses written from pre-encoded parts. A revision's events go to many watchers; encoding each
 * event once and copying its bytes into every watcher's response, instead of encoding it again for each,
 * is most of the cost of fan-out. The bytes are exactly what protobuf would write for the same
 * {@link WatchResponse} (header, watch_id, events, in field order).
 */
final class EncodedResponses {

  /** A response as its encoded parts; gRPC copies them straight into its frame. */
  static final class Encoded {
    private final ByteString header;
    private final long watchId;
    private final ByteString[] events;
    private final int size;

    private Encoded(ByteString header, long watchId, ByteString[] events, int size) {
      this.header = header;
      this.watchId = watchId;
      this.events = events;
      this.size = size;
    }

    void writeTo(OutputStream out) throws IOException {
      CodedOutputStream cos = CodedOutputStream.newInstance(out, 4096);
      cos.writeBytes(HEADER_FIELD, header);
      if (watchId != 0) {
        cos.writeInt64(WATCH_ID_FIELD, watchId);
      }
      for (ByteString e : events) {
        cos.writeBytes(EVENTS_FIELD, e);
      }
      cos.flush();
    }
  }

  /** The stream gRPC drains into its buffers; reading it byte-wise is supported but not used by gRPC. */
  private static final class EncodedStream extends InputStream implements Drainable, KnownLength {
    private Encoded encoded;
    private InputStream read;

    EncodedStream(Encoded encoded) {
      this.encoded = encoded;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      if (encoded == null) {
        return 0;
      }
      int n = encoded.size;
      encoded.writeTo(target);
      encoded = null;
      return n;
    }

    @Override
    public int available() throws IOException {
      return encoded != null ? encoded.size : read == null ? 0 : read.available();
    }

    @Override
    public int read() throws IOException {
      return bytes().read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return bytes().read(b, off, len);
    }

    private InputStream bytes() throws IOException {
      if (read == null) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(encoded == null ? 0 : encoded.size);
        if (encoded != null) {
          encoded.writeTo(out);
          encoded = null;
        }
        read = new ByteArrayInputStream(out.toByteArray());
      }
      return read;
    }
  }

  /** The Watch response marshaller: takes a {@link WatchResponse} or an {@link Encoded} one. */
  static final MethodDescriptor.Marshaller<Object> MARSHALLER = new MethodDescriptor.Marshaller<>() {
    private final MethodDescriptor.Marshaller<WatchResponse> proto =
        ProtoUtils.marshaller(WatchResponse.getDefaultInstance());

    @Override
    public InputStream stream(Object value) {
      return value instanceof Encoded e ? new EncodedStream(e) : proto.stream((WatchResponse) value);
    }

    @Override
    public Object parse(InputStream stream) {
      return proto.parse(stream);
    }
  };

  private static final int HEADER_FIELD = 1;
  private static final int WATCH_ID_FIELD = 2;
  private static final int EVENTS_FIELD = 11;

  private final Map<Event, ByteString> events = new IdentityHashMap<>();
  private ResponseHeader header;
  private ByteString headerBytes;

  /** Forgets the events encoded so far (call when a delivery step ends). */
  void clear() {
    events.clear();
  }

  Encoded encode(ResponseHeader h, long watchId, List<Event> evs) {
    if (h != header) {
      header = h;
      headerBytes = h.toByteString();
    }
    int size = CodedOutputStream.computeBytesSize(HEADER_FIELD, headerBytes);
    if (watchId != 0) {
      size += CodedOutputStream.computeInt64Size(WATCH_ID_FIELD, watchId);
    }
    ByteString[] parts = new ByteString[evs.size()];
    for (int i = 0; i < parts.length; i++) {
      parts[i] = events.computeIfAbsent(evs.get(i), Event::toByteString);
      size += CodedOutputStream.computeBytesSize(EVENTS_FIELD, parts[i]);
    }
    return new Encoded(headerBytes, watchId, parts, size);
  }
}
