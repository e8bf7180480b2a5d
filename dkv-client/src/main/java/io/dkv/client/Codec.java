package io.dkv.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Turns values of type {@code T} into the bytes stored under a key, and back. Codecs are stateless and
 * thread-safe.
 *
 * <pre>{@code
 * Codec<Order> orders = Codec.json(Order.class);
 * client.put("order:1", new Order("o1", 3), orders);
 * Optional<Versioned<Order>> o = client.get("order:1", orders);
 * }</pre>
 *
 * @param <T> the value type
 */
public interface Codec<T> {

  /** The stored form of {@code value}. */
  byte[] encode(T value);

  /** The value stored as {@code bytes}. */
  T decode(byte[] bytes);

  /** UTF-8 strings. */
  static Codec<String> string() {
    return Codecs.STRING;
  }

  /** Raw bytes, unchanged. */
  static Codec<byte[]> bytes() {
    return Codecs.BYTES;
  }

  /** JSON through a default Jackson {@link ObjectMapper}. */
  static <T> Codec<T> json(Class<T> type) {
    return json(type, Codecs.MAPPER);
  }

  /** JSON through the given Jackson {@link ObjectMapper}. */
  static <T> Codec<T> json(Class<T> type, ObjectMapper mapper) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(mapper, "mapper");
    return new Codec<>() {
      @Override
      public byte[] encode(T value) {
        try {
          return mapper.writeValueAsBytes(value);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot encode " + type.getName() + " as JSON", e);
        }
      }

      @Override
      public T decode(byte[] bytes) {
        try {
          return mapper.readValue(bytes, type);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot decode JSON as " + type.getName(), e);
        }
      }
    };
  }

  /**
   * The codec used for {@code type} by the methods that take a {@link Class}: {@link #string()} for
   * {@code String}, {@link #bytes()} for {@code byte[]}, JSON otherwise.
   */
  @SuppressWarnings("unchecked")
  static <T> Codec<T> of(Class<T> type) {
    if (type == String.class) {
      return (Codec<T>) string();
    }
    if (type == byte[].class) {
      return (Codec<T>) bytes();
    }
    return json(type);
  }
}

/** The shared codec instances. */
final class Codecs {
  static final ObjectMapper MAPPER = new ObjectMapper().findAndRegisterModules();

  static final Codec<String> STRING = new Codec<>() {
    @Override
    public byte[] encode(String value) {
      return value.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String decode(byte[] bytes) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  };

  static final Codec<byte[]> BYTES = new Codec<>() {
    @Override
    public byte[] encode(byte[] value) {
      return value.clone();
    }

    @Override
    public byte[] decode(byte[] bytes) {
      return bytes;
    }
  };

  private Codecs() {
  }
}
