package io.dkv.examples.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CacheExampleTest {

  @Test
  void theWatchKeptCachesAreExactOnceTheirWatchesDeliveredAndTheTtlCacheServesStaleValues() throws Exception {
    CacheExample example = new CacheExample();
    // a TTL longer than the run: every key the TTL cache loaded early is stale after its next write
    new CommandLine(example).parseArgs("--keys", "20", "--writes-per-second", "100", "--duration-s", "2",
        "--ttl-ms", "60000");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CacheExample.Report r = example.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertTrue(r.writes() > 20, printed);
    assertEquals(0, r.watch().staleAtEnd(), "the watch-fed cache after its watch delivered the last write\n"
        + printed);
    assertEquals(1, r.watch().serverReads(), "one snapshot, then only events");
    assertTrue(r.ttl().staleAtEnd() > 0, printed);
    assertTrue(r.ttl().staleReads() > 0, printed);
    assertEquals(20, r.ttl().serverReads(), "one load per key within the TTL\n" + printed);
    assertTrue(r.watch().reads() > 0 && r.watch().reads() == r.ttl().reads(), printed);
    // the informer's WatchedCache: exact once its watch delivered, one load per key it was asked for
    assertEquals(0, r.watchedCache().staleAtEnd(), printed);
    assertEquals(20, r.watchedCache().serverReads(), printed);
    assertTrue(printed.contains("stale keys after the last write"), printed);
  }
}
