package io.dkv.server.api;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Etcd's {@code Lease/LeaseLeases} call, absent from jetcd's protos: an empty request, and a response of
 * a header (field 1) and the leases (field 2, each a message with the id in field 1), encoded by hand.
 */
public final class LeaseLeases {

  private LeaseLeases() {}

  /** The request: no fields. */
  public record Request() {}

  /** The response: a header and the lease ids. */
  public record Response(ResponseHeader header, List<Long> ids) {}

  /** The method, for servers and clients. */
  public static final MethodDescriptor<Request, Response> METHOD = MethodDescriptor.<Request, Response>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName(MethodDescriptor.generateFullMethodName(LeaseGrpc.SERVICE_NAME, "LeaseLeases"))
      .setRequestMarshaller(new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(Request value) {
          return new ByteArrayInputStream(new byte[0]);
        }

        @Override
        public Request parse(InputStream stream) {
          try {
            stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          return new Request();
        }
      })
      .setResponseMarshaller(new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(Response value) {
          try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            out.writeMessage(1, value.header());
            for (long id : value.ids()) {
              out.writeTag(2, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
              out.writeUInt32NoTag(CodedOutputStream.computeInt64Size(1, id));
              out.writeInt64(1, id);
            }
            out.flush();
            return new ByteArrayInputStream(bytes.toByteArray());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }

        @Override
        public Response parse(InputStream stream) {
          try {
            CodedInputStream in = CodedInputStream.newInstance(stream);
            ResponseHeader header = ResponseHeader.getDefaultInstance();
            List<Long> ids = new ArrayList<>();
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
              if (tag >>> 3 == 1) {
                header = ResponseHeader.parseFrom(in.readBytes());
              } else if (tag >>> 3 == 2) {
                CodedInputStream status = in.readBytes().newCodedInput();
                long id = 0;
                for (int t = status.readTag(); t != 0; t = status.readTag()) {
                  if (t >>> 3 == 1) {
                    id = status.readInt64();
                  } else {
                    status.skipField(t);
                  }
                }
                ids.add(id);
              } else {
                in.skipField(tag);
              }
            }
            return new Response(header, ids);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      })
      .build();
}
