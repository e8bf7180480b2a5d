package io.dkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dkv.server.watch.WatchHub;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Only {@code io.dkv.server} is dkv-server's API (the equivalent of a module exporting only that package, which
 * dkv-server's non-modular dependencies rule out): its public types are the ones below, and nothing in their
 * public or protected signatures names a type outside {@code io.dkv.server} and the JDK's {@code java.*}.
 */
class ApiSurfaceTest {

  private static final String API_PACKAGE = "io.dkv.server";

  @Test
  void thePublicTypesOfTheApiPackageAreTheServerAndTheCommandLine() throws Exception {
    assertEquals(Set.of("io.dkv.server.DkvServer", "io.dkv.server.DkvServer$Builder",
        "io.dkv.server.DkvServer$CompactionMode", "io.dkv.server.Main"), new TreeSet<>(publicApiTypes()));
  }

  @Test
  void theApiNamesNoTypeOutsideItsPackageAndTheJdk() throws Exception {
    List<String> leaks = new ArrayList<>();
    for (String name : publicApiTypes()) {
      leaks.addAll(leaks(Class.forName(name)));
    }
    assertEquals(List.of(), leaks);
  }

  /** The check itself finds a leak, in a return type, a parameter, a type argument, a supertype and a field. */
  @Test
  void theCheckFindsInternalAndThirdPartyTypes() {
    assertEquals(List.of(
        "io.dkv.server.ApiSurfaceTest$Leaky extends/implements java.util.function.Supplier<io.dkv.server.watch.WatchHub>"
            + ": io.dkv.server.watch.WatchHub",
        "io.dkv.server.ApiSurfaceTest$Leaky field hub: io.dkv.server.watch.WatchHub",
        "io.dkv.server.ApiSurfaceTest$Leaky method get: io.dkv.server.watch.WatchHub",
        "io.dkv.server.ApiSurfaceTest$Leaky method sessions: io.dkv.server.watch.WatchHub$Session",
        "io.dkv.server.ApiSurfaceTest$Leaky method status: io.grpc.Status"), leaks(Leaky.class));
  }

  /** Not API: a public type as it must not be written. */
  public abstract static class Leaky implements java.util.function.Supplier<WatchHub> {
    public WatchHub hub;

    @Override
    public abstract WatchHub get();

    public abstract void sessions(List<? extends WatchHub.Session> sessions);

    public abstract void status(io.grpc.Status status);

    abstract io.grpc.Status notApi(); // package-private: not part of the API
  }

  /** The public types of the API package (top-level and nested), from the compiled classes. */
  private static List<String> publicApiTypes() throws IOException, URISyntaxException, ClassNotFoundException {
    Path classes = Path.of(DkvServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> names = new ArrayList<>();
    try (Stream<Path> files = Files.list(classes.resolve(API_PACKAGE.replace('.', '/')))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        String simple = f.getFileName().toString().replace(".class", "");
        if (simple.equals("package-info")) {
          continue;
        }
        Class<?> c = Class.forName(API_PACKAGE + "." + simple, false, ApiSurfaceTest.class.getClassLoader());
        if (isVisible(c)) {
          names.add(c.getName());
        }
      }
    }
    return names;
  }

  /** Public, and (if nested) in a public type: visible outside the package. */
  private static boolean isVisible(Class<?> c) {
    for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
      if (!Modifier.isPublic(k.getModifiers()) || k.isAnonymousClass() || k.isLocalClass() || k.isSynthetic()) {
        return false;
      }
    }
    return true;
  }

  private static List<String> leaks(Class<?> c) {
    List<String> leaks = new ArrayList<>();
    check(leaks, c.getName() + " extends/implements ", c.getGenericSuperclass());
    for (Type t : c.getGenericInterfaces()) {
      check(leaks, c.getName() + " extends/implements ", t);
    }
    for (Field f : c.getDeclaredFields()) {
      if (isApi(f.getModifiers()) && !f.isSynthetic()) {
        check(leaks, c.getName() + " field " + f.getName(), f.getGenericType());
      }
    }
    for (Constructor<?> k : c.getDeclaredConstructors()) {
      checkExecutable(leaks, c.getName() + " constructor", k);
    }
    for (Method m : c.getDeclaredMethods()) {
      if (!m.isSynthetic() && !m.isBridge()) {
        checkExecutable(leaks, c.getName() + " method " + m.getName(), m);
        if (isApi(m.getModifiers())) {
          check(leaks, c.getName() + " method " + m.getName(), m.getGenericReturnType());
        }
      }
    }
    leaks.sort(null);
    return leaks.stream().distinct().toList();
  }

  private static void checkExecutable(List<String> leaks, String where, Executable e) {
    if (!isApi(e.getModifiers())) {
      return;
    }
    for (Type t : e.getGenericParameterTypes()) {
      check(leaks, where, t);
    }
    for (Type t : e.getGenericExceptionTypes()) {
      check(leaks, where, t);
    }
  }

  private static boolean isApi(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static void check(List<String> leaks, String where, Type t) {
    if (t == null) {
      return;
    }
    if (t instanceof Class<?> c) {
      while (c.isArray()) {
        c = c.getComponentType();
      }
      if (!c.isPrimitive() && !allowed(c)) {
        String label = where.endsWith(" ") ? where + c.getName() : where;
        leaks.add(label + ": " + c.getName());
      }
    } else if (t instanceof ParameterizedType p) {
      String w = where.endsWith(" ") ? where + p.getTypeName() : where;
      check(leaks, w, p.getRawType());
      for (Type a : p.getActualTypeArguments()) {
        check(leaks, w, a);
      }
    } else if (t instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        check(leaks, where, b);
      }
      for (Type b : w.getLowerBounds()) {
        check(leaks, where, b);
      }
    } else if (t instanceof GenericArrayType a) {
      check(leaks, where, a.getGenericComponentType());
    } else if (t instanceof TypeVariable<?> v) {
      for (Type b : v.getBounds()) {
        check(leaks, where, b);
      }
    }
  }

  /** The JDK's java.* and the API package itself (not its sub-packages). */
  private static boolean allowed(Class<?> c) {
    String pkg = c.getPackageName();
    return pkg.startsWith("java.") || pkg.equals(API_PACKAGE);
  }
}
