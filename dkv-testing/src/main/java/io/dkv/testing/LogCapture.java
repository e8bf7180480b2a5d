package io.dkv.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Records what one Logback logger (and the loggers below it) logs, at DEBUG and above, while open; restores the
 * logger's level when the last open capture of it closes (captures of one logger may overlap: each records it
 * all). Safe to read while other threads log. Needs {@code ch.qos.logback:logback-classic} on
 * the test class path (an optional dependency of dkv-testing).
 *
 * <pre>{@code
 * try (LogCapture log = new LogCapture("io.dkv")) {
 *   ...
 *   assertEquals(1, log.at(Level.WARN).size());
 * }
 * }</pre>
 */
public final class LogCapture implements AutoCloseable {
  /** Per logger name: how many captures are open, and its level before the first (captures may overlap). */
  private static final Map<String, Integer> OPEN = new HashMap<>();
  private static final Map<String, Level> BEFORE = new HashMap<>();

  private final Logger logger;
  private final Recording appender = new Recording();

  /** Captures the logger of {@code loggerOf}. */
  public LogCapture(Class<?> loggerOf) {
    this(loggerOf.getName());
  }

  /** Captures the logger {@code name}, such as {@code io.dkv} for all of DKV. */
  public LogCapture(String name) {
    logger = (Logger) LoggerFactory.getLogger(name);
    synchronized (OPEN) {
      if (OPEN.merge(name, 1, Integer::sum) == 1) {
        BEFORE.put(name, logger.getLevel()); // may be null: inherited
      }
      logger.setLevel(Level.DEBUG);
    }
    appender.start();
    logger.addAppender(appender);
  }

  /** The formatted messages logged at exactly {@code level}, in order. */
  public List<String> at(Level level) {
    return appender.events.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  /** The events logged at INFO or above (what an operator sees) as {@code LEVEL message}, in order. */
  public List<String> operatorLines() {
    return appender.events.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
        .map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
  }

  /** Every event captured, in order. */
  public List<ILoggingEvent> events() {
    return List.copyOf(appender.events);
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    synchronized (OPEN) {
      if (OPEN.merge(logger.getName(), -1, Integer::sum) == 0) {
        OPEN.remove(logger.getName());
        logger.setLevel(BEFORE.remove(logger.getName()));
      }
    }
  }

  private static final class Recording extends AppenderBase<ILoggingEvent> {
    final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent e) {
      events.add(e);
    }
  }
}
