package io.dkv.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Records what one Logback logger (and the loggers below it) logs, at DEBUG and above, while open; restores the
 * logger's level on close. Safe to read while other threads log. Needs {@code ch.qos.logback:logback-classic} on
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
  private final Logger logger;
  private final Level before;
  private final Recording appender = new Recording();

  /** Captures the logger of {@code loggerOf}. */
  public LogCapture(Class<?> loggerOf) {
    this(loggerOf.getName());
  }

  /** Captures the logger {@code name}, such as {@code io.dkv} for all of DKV. */
  public LogCapture(String name) {
    logger = (Logger) LoggerFactory.getLogger(name);
    before = logger.getLevel();
    logger.setLevel(Level.DEBUG);
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
    logger.setLevel(before);
  }

  private static final class Recording extends AppenderBase<ILoggingEvent> {
    final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent e) {
      events.add(e);
    }
  }
}
